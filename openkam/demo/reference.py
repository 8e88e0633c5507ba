"""Reference data and vocabulary for the generated worlds (demo and benchmark).

Real data: the CMS Hospital General Information file (``data/``), the NUCC taxonomy codes already in
``stakeholders_specialty``. Everything else here (system names, products, titles, subjects) is fictional.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CMS_CSV = Path(__file__).resolve().parent / "data" / "Hospital_General_Information.csv"

# Hospital types a named (demo) system is built from; the large world also uses the others.
GENERAL_HOSPITAL_TYPES = frozenset({"Acute Care Hospitals", "Critical Access Hospitals", "Childrens"})


@dataclass(frozen=True, slots=True)
class Hospital:
    """One row of the CMS file, as printed on an account (names and addresses lightly title-cased)."""

    ccn: str
    name: str
    address: str
    city: str
    state: str
    zip: str
    county: str
    phone: str
    hospital_type: str
    ownership: str
    emergency: str
    rating: str


_KEEP_UPPER = frozenset(
    {
        "NYU", "SUNY", "VA", "UPMC", "HCA", "LLC", "II", "III", "IV", "NYC", "CHI", "HSHS", "UCLA", "UCSF", "UC",
        "USA", "US", "MD", "NE", "NW", "SE", "SW", "PO", "CMC", "AMC", "UVA", "UNC", "OSF", "SSM", "JFK", "LA",
        "PA", "NY", "NJ", "DC", "CT", "MA", "RI", "UAB", "UT", "ECU", "LSU", "KU", "OU", "MUSC", "HHC",
    }
)  # fmt: skip
_KEEP_LOWER = frozenset({"of", "and", "the", "at", "for", "in", "on", "de", "la", "del"})


def smart_title(text: str) -> str:
    """'MOUNT SINAI HOSPITAL OF QUEENS' -> 'Mount Sinai Hospital of Queens' (keeps known acronyms)."""
    words = []
    for i, raw in enumerate(text.split()):
        core = raw.strip("(),.&-/'")
        if core.upper() in _KEEP_UPPER or any(ch.isdigit() for ch in core):
            words.append(raw)
        elif i > 0 and raw.lower() in _KEEP_LOWER:
            words.append(raw.lower())
        else:
            words.append("-".join(part[:1].upper() + part[1:].lower() for part in raw.split("-")))
    return " ".join(words)


@cache
def cms_hospitals() -> tuple[Hospital, ...]:
    """All 5,421 hospitals, in file order. ``Facility ID`` (the CCN) stays a string: it keeps leading zeros."""
    with CMS_CSV.open(newline="", encoding="utf-8-sig") as fh:
        return tuple(
            Hospital(
                ccn=row["Facility ID"].strip(),
                name=smart_title(row["Facility Name"].strip()),
                address=smart_title(row["Address"].strip()),
                city=smart_title(row["City/Town"].strip()),
                state=row["State"].strip(),
                zip=row["ZIP Code"].strip(),
                county=row["County/Parish"].strip().upper(),
                phone=row["Telephone Number"].strip(),
                hospital_type=row["Hospital Type"].strip(),
                ownership=row["Hospital Ownership"].strip(),
                emergency=row["Emergency Services"].strip(),
                rating=row["Hospital overall rating"].strip(),
            )
            for row in csv.DictReader(fh)
        )


STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AS": "American Samoa", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida",
    "GA": "Georgia", "GU": "Guam", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska",
    "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "MP": "Northern Mariana Islands", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "PR": "Puerto Rico", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VI": "U.S. Virgin Islands",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip

NEW_ENGLAND = frozenset({"MA", "CT", "RI", "VT", "NH", "ME"})
NY_METRO_COUNTIES = frozenset(
    {
        "NEW YORK", "BRONX", "KINGS", "QUEENS", "RICHMOND", "NASSAU", "SUFFOLK", "WESTCHESTER", "ROCKLAND",
        "PUTNAM", "ORANGE", "DUTCHESS", "ULSTER", "SULLIVAN",
    }
)  # fmt: skip

# The three Northeast territories of the demo; elsewhere a territory is a state.
NORTHEAST_TERRITORIES = {
    "metro-ny-nj": "Metro New York & New Jersey",
    "new-england": "New England",
    "upstate-ny": "Upstate New York",
}


def territory_of(h: Hospital) -> tuple[str, str]:
    """(code, name) of the sales territory a hospital belongs to."""
    if h.state == "NJ" or (h.state == "NY" and h.county in NY_METRO_COUNTIES):
        code = "metro-ny-nj"
    elif h.state == "NY":
        code = "upstate-ny"
    elif h.state in NEW_ENGLAND:
        code = "new-england"
    else:
        return h.state.lower(), STATE_NAMES.get(h.state, h.state)
    return code, NORTHEAST_TERRITORIES[code]


# --- departments and specialties (NUCC codes) ------------------------------------------------------
# (department name, NUCC code of its physicians, a condition it treats for subjects)
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("Cardiology", "207RC0000X", "heart failure"),
    ("Oncology", "207RX0202X", "lung cancer"),
    ("Hematology", "207RH0000X", "multiple myeloma"),
    ("Neurology", "2084N0400X", "multiple sclerosis"),
    ("Endocrinology", "207RE0101X", "type 2 diabetes"),
    ("Rheumatology", "207RR0500X", "rheumatoid arthritis"),
    ("Pulmonology", "207RP1001X", "COPD"),
    ("Infectious Disease", "207RI0200X", "sepsis"),
    ("Nephrology", "207RN0300X", "chronic kidney disease"),
    ("Gastroenterology", "207RG0100X", "Crohn's disease"),
    ("Emergency Medicine", "207P00000X", "acute coronary syndrome"),
    ("Critical Care", "207RC0200X", "septic shock"),
    ("Dermatology", "207N00000X", "plaque psoriasis"),
)
PHARMACY = "Pharmacy"
# Where each therapeutic area's conversations happen.
TA_DEPARTMENTS = {
    "cardiometabolic": ("Cardiology", "Endocrinology", "Nephrology"),
    "oncology": ("Oncology", "Hematology"),
    "immunology": ("Rheumatology", "Dermatology", "Gastroenterology"),
    "neuroscience": ("Neurology",),
}
INTERNAL_MEDICINE = "207R00000X"
PHARMACIST_CODES = ("183500000X", "1835P1200X", "1835X0200X", "1835P0018X")
NURSE_CODES = ("163W00000X", "363L00000X", "364S00000X")
PA_CODE = "363A00000X"

# --- portfolio (fictional brands and generic names) -------------------------------------------------
# (code, therapeutic area, [(brand, generic, status, launch years ago, ndc, [(indication, icd10, line, approved)])])
_Indication = tuple[str, str, str, bool]
_Product = tuple[str, str, str, int, str, tuple[_Indication, ...]]
PORTFOLIO: tuple[tuple[str, str, tuple[_Product, ...]], ...] = (
    ("cardiometabolic", "Cardiometabolic", (
        ("Cardivance", "velcoraptan", "marketed", 6, "70999-101-30", (
            ("Heart failure with reduced ejection fraction", "I50.2", "Add-on to guideline-directed therapy", True),
            ("Heart failure with preserved ejection fraction", "I50.3", "", False),
        )),
        ("Lipravel", "zanolipimab", "marketed", 4, "70999-114-02", (
            ("Heterozygous familial hypercholesterolaemia", "E78.01", "Adjunct to statins", True),
            ("Primary hyperlipidaemia", "E78.5", "Statin-intolerant patients", True),
        )),
        ("Glucentra", "dapravuglide", "launch", 1, "70999-127-04", (
            ("Type 2 diabetes mellitus", "E11.9", "Second line", True),
            ("Chronic weight management", "E66.9", "", False),
        )),
    )),
    ("oncology", "Oncology", (
        ("Onkelara", "tarvelimab", "marketed", 5, "70999-201-10", (
            ("Non-small cell lung cancer, PD-L1 ≥50%", "C34.90", "First line", True),
            ("Metastatic urothelial carcinoma", "C67.9", "Second line", True),
        )),
        ("Mammira", "zobretuzumab", "marketed", 3, "70999-215-20", (
            ("HER2-positive metastatic breast cancer", "C50.919", "Second line", True),
        )),
        ("Hemavoy", "lenbracitinib", "launch", 1, "70999-228-30", (
            ("Relapsed or refractory multiple myeloma", "C90.00", "Third line and later", True),
        )),
    )),
    ("immunology", "Immunology & Inflammation", (
        ("Rheumora", "pelakitinib", "marketed", 7, "70999-301-60", (
            ("Moderate-to-severe rheumatoid arthritis", "M06.9", "After methotrexate", True),
            ("Active psoriatic arthritis", "L40.50", "After one TNF inhibitor", True),
        )),
        ("Dermavel", "ustrolimab", "marketed", 2, "70999-312-01", (
            ("Moderate-to-severe plaque psoriasis", "L40.0", "Systemic therapy candidates", True),
            ("Crohn's disease", "K50.90", "", False),
        )),
    )),
    ("neuroscience", "Neuroscience", (
        ("Neurestra", "ofarimab", "marketed", 5, "70999-401-05", (
            ("Relapsing forms of multiple sclerosis", "G35", "First line", True),
        )),
        ("Migralis", "rimeprantide", "pipeline", 0, "", (
            ("Preventive treatment of episodic migraine", "G43.909", "", False),
        )),
    )),
)  # fmt: skip

# --- named demo systems ----------------------------------------------------------------------------
SYSTEM_SUFFIXES = (
    "Health", "Health System", "Health Partners", "Healthcare", "Health Network", "Health Alliance",
    "Regional Health", "Medical Group", "Care Network", "Health Collaborative",
)  # fmt: skip

# --- trade accounts ---------------------------------------------------------------------------------
GPO_NAMES = ("Keystone Purchasing Alliance", "Meridian Sourcing Cooperative", "Unity Health Purchasing",
             "Pinnacle Supply Alliance", "Cornerstone GPO", "Horizon Group Purchasing")  # fmt: skip
PAYER_NAMES = ("Atlantic Mutual Health Plan", "Liberty Shield Health", "Harborview Health Plan",
               "Granite Peak Insurance", "Prairie Health Assurance", "Summit Care Plans")  # fmt: skip
PBM_NAMES = ("ClearPath Pharmacy Benefits", "Rxcel Benefit Solutions", "NorthStar PBM", "Veritas Rx Services")
WHOLESALER_NAMES = ("Meridian Drug Distribution", "Tri-State Pharma Supply", "Continental Medical Distributors")
CHAIN_NAMES = ("CornerCare Pharmacy", "Main Street Drug", "WellPoint Pharmacies", "Bluebird Rx", "Family Apothecary")

# --- people -----------------------------------------------------------------------------------------
# username, first, last, role, job title, team key, manager username, is_staff
PERSONAS: tuple[tuple[str, str, str, str, str, str, str | None, bool], ...] = (
    ("lead", "Elena", "Rossi", "lead", "Director, Key Account Management — Northeast", "leadership", None, False),
    ("kam", "Sarah", "Mitchell", "kam", "Key Account Manager, Metro New York & New Jersey", "metro-ny-nj", "lead",
     False),
    ("kam2", "David", "Okafor", "kam", "Key Account Manager, New England", "new-england", "lead", False),
    ("msl", "Priya", "Raman", "medical", "Medical Science Liaison, Cardiometabolic & Oncology", "medical", None, False),
    ("access", "Marcus", "Chen", "market_access", "Director, Market Access — East", "access", None, False),
    ("compliance", "Janet", "Kowalski", "compliance", "Senior Compliance Manager", "compliance", None, False),
    ("admin", "Tom", "Becker", "admin", "CRM Platform Administrator", "operations", None, True),
)  # fmt: skip

FIXED_TEAMS = {
    "leadership": "Northeast Key Account Leadership",
    "medical": "Medical Affairs — Northeast",
    "access": "Market Access — East",
    "compliance": "Compliance & Governance",
    "operations": "Commercial Operations",
}

ROLE_TITLES = {
    "kam": "Key Account Manager",
    "lead": "Key Account Director",
    "medical": "Medical Science Liaison",
    "market_access": "Market Access Manager",
    "compliance": "Compliance Analyst",
    "admin": "CRM Administrator",
}

COMMITTEES_PER_SYSTEM = (
    ("P&T Committee", "p_and_t", "Monthly"),
    ("Value Analysis Committee", "value_analysis", "Monthly"),
    ("Procurement Council", "procurement", "Quarterly"),
)

ADMIN_TITLES_HOSPITAL = ("Chief Medical Officer", "Chief Executive Officer", "Chief Nursing Officer",
                         "VP Clinical Operations", "Chief Financial Officer", "Director of Quality")  # fmt: skip
ADMIN_TITLES_SYSTEM = ("System Chief Medical Officer", "Chief Pharmacy Officer", "SVP Clinical Integration",
                       "Chief Quality Officer", "VP Population Health")  # fmt: skip
PROCUREMENT_TITLES = ("Director of Supply Chain", "Contracting Manager", "Value Analysis Coordinator",
                      "Pharmacy Buyer", "Strategic Sourcing Manager")  # fmt: skip
TRADE_TITLES = {
    "payer": (("Medical Director", "payer", "decision_maker"), ("Director of Pharmacy Benefits", "payer", "approver"),
              ("Formulary Manager", "pharmacist", "influencer"), ("Clinical Pharmacist", "pharmacist", "influencer")),
    "pbm": (("VP Trade Relations", "payer", "decision_maker"),
            ("Clinical Programs Manager", "pharmacist", "influencer")),
    "gpo": (("Director of Pharmacy Contracting", "procurement", "decision_maker"),
            ("Clinical Sourcing Manager", "pharmacist", "influencer")),
    "wholesaler": (("National Account Executive", "other", "gatekeeper"),),
    "pharmacy_chain": (("Director of Pharmacy Operations", "pharmacist", "decision_maker"),
                       ("Category Manager", "procurement", "gatekeeper")),
}  # fmt: skip

# --- plans ------------------------------------------------------------------------------------------
# (title, metric, indicator, baseline, target)
OBJECTIVES = (
    ("Secure {product} formulary listing at {account}", "Formulary status (0 none, 1 restricted, 2 listed)",
     "lagging", 0, 2),
    ("Grow {product} new patient starts", "New patient starts per quarter", "lagging", 40, 65),
    ("Embed a {condition} care pathway", "Departments using the pathway", "leading", 1, 5),
    ("Strengthen relationships with the decision-making unit", "Mapped decision-makers with a positive stance",
     "leading", 4, 10),
    ("Reduce time to therapy in {condition}", "Median days from diagnosis to treatment", "lagging", 45, 30),
    ("Establish a value-based agreement for {product}", "Agreement signed (0/1)", "lagging", 0, 1),
    ("Expand scientific exchange on {condition}", "Medical education sessions held", "leading", 2, 8),
)  # fmt: skip

TACTICS = {
    "commercial": ("Quarterly business review with the executive team", "{product} pull-through programme in {dept}",
                   "Ordering and supply review for {product}", "Value story for {product} to hospital leadership"),
    "medical": ("Scientific exchange with {dept} experts on {condition}", "Support for an investigator-initiated study",
                "Medical education series for {dept} fellows", "Advisory board with {account} experts"),
    "market_access": ("P&T dossier for {product}", "Budget impact model for the pharmacy",
                      "Payer contract alignment for {product}", "Prior-authorisation support for {product}"),
    "joint": ("Co-created {condition} care pathway", "Joint patient-outcomes project in {dept}",
              "Shared quality-improvement initiative"),
}  # fmt: skip

ACTIONS = (
    "Prepare the briefing pack", "Schedule a meeting with the {dept} chief", "Submit the dossier to P&T",
    "Follow up on the formulary decision", "Run an in-service for {dept} nurses",
    "Share the real-world evidence summary",
    "Align pricing with market access", "Collect pathway baseline data", "Present at grand rounds",
    "Confirm next steps with the pharmacy director", "Draft the project charter", "Review contract terms",
    "Map the decision-making unit", "Agree success measures with the customer", "Book the steering-committee review",
)  # fmt: skip

# --- interactions -----------------------------------------------------------------------------------
SUBJECTS = {
    "commercial": ("Business review", "{product} ordering and supply", "Account planning check-in",
                   "Contract performance review", "Introduced the {product} patient-support programme",
                   "Follow-up on {dept} service needs"),
    "medical": ("Scientific exchange: {condition}", "Unsolicited medical request on {product}",
                "Congress debrief: {area}", "Investigator-initiated study discussion",
                "Real-world evidence in {condition}"),
    "market_access": ("Formulary review preparation: {product}", "Budget impact model walkthrough",
                      "Prior-authorisation criteria for {product}", "Payer contract terms",
                      "P&T monograph follow-up"),
    "joint": ("Care pathway working group", "Quality-improvement project meeting", "Pathway steering committee",
              "Joint account review with the customer"),
}  # fmt: skip
NOTES = (
    "Customer asked for a follow-up with the latest data.",
    "Agreed next steps; owner to circulate a summary.",
    "Pharmacy raised budget questions for next fiscal year.",
    "Positive reception; identified two additional stakeholders.",
    "Decision postponed to the next committee meeting.",
    "Requested materials sent after the meeting.",
    "",
)
