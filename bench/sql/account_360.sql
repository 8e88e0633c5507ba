-- Question: everything the Account 360 page shows for one account the user may see (here: an IDN with 40
-- hospitals, ~200 departments and 2,000 stakeholders), hand-written, one statement per panel.

-- the account, checked against the user's scope, with parent, owner and territory
WITH people AS (
    SELECT id, team_id FROM core_user WHERE id = %(user_id)s OR (%(is_lead)s AND manager_id = %(user_id)s)
), direct AS (  -- current team memberships, owned accounts, accounts in the team's territories
    SELECT m.account_id AS id FROM accounts_accountteammember m
    WHERE m.user_id IN (SELECT id FROM people) AND m.start_date <= %(today)s
      AND (m.end_date IS NULL OR m.end_date >= %(today)s)
    UNION
    SELECT a.id FROM accounts_account a WHERE a.owner_id IN (SELECT id FROM people)
    UNION
    SELECT a.id FROM accounts_account a
    WHERE a.territory_id IN (SELECT tt.territory_id FROM core_teamterritory tt
                             WHERE tt.team_id IN (SELECT team_id FROM people))
)
SELECT a.*, p.name AS parent_name, o.first_name, o.last_name, t.name AS territory_name
FROM accounts_account a
LEFT JOIN accounts_account p ON p.id = a.parent_id
LEFT JOIN core_user o ON o.id = a.owner_id
LEFT JOIN core_territory t ON t.id = a.territory_id
WHERE a.id = %(account_id)s
  AND (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct));

-- breadcrumb: the ancestors
SELECT a.id, a.name, a.type
FROM accounts_account x CROSS JOIN LATERAL unnest(x.ancestors) WITH ORDINALITY AS u(id, n)
JOIN accounts_account a ON a.id = u.id
WHERE x.id = %(account_id)s ORDER BY u.n;

-- direct children with, for each, the accounts, current stakeholders and open plans below it
WITH sub AS (
    SELECT id, CASE WHEN parent_id = %(account_id)s THEN id ELSE ancestors[%(child_index)s] END AS child
    FROM accounts_account WHERE ancestors @> ARRAY[%(account_id)s]::bigint[]
), des AS (
    SELECT child, count(*) - 1 AS n FROM sub GROUP BY child
), pos AS (
    SELECT s.child, count(DISTINCT p.stakeholder_id) AS n
    FROM stakeholders_position p JOIN sub s ON s.id = p.account_id
    WHERE p.valid_to IS NULL OR p.valid_to >= %(today)s GROUP BY s.child
), pl AS (
    SELECT s.child, count(*) AS n FROM plans_accountplan p JOIN sub s ON s.id = p.account_id
    WHERE p.status = ANY(%(open_statuses)s) GROUP BY s.child
)
SELECT a.id, a.name, a.type, a.city, a.state, a.kam_level, o.first_name, o.last_name,
       (SELECT count(*) FROM accounts_account c WHERE c.parent_id = a.id) AS children_count,
       coalesce(des.n, 0), coalesce(pos.n, 0), coalesce(pl.n, 0)
FROM accounts_account a
LEFT JOIN core_user o ON o.id = a.owner_id
LEFT JOIN des ON des.child = a.id LEFT JOIN pos ON pos.child = a.id LEFT JOIN pl ON pl.child = a.id
WHERE a.parent_id = %(account_id)s
ORDER BY a.name, a.id;

-- key figures: accounts below, current stakeholders, open plans, visible interactions in the last 90 days
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
)
SELECT (SELECT count(*) - 1 FROM sub),
       (SELECT count(DISTINCT stakeholder_id) FROM stakeholders_position
        WHERE account_id IN (SELECT id FROM sub) AND (valid_to IS NULL OR valid_to >= %(today)s)),
       (SELECT count(*) FROM plans_accountplan
        WHERE account_id IN (SELECT id FROM sub) AND status = ANY(%(open_statuses)s)),
       (SELECT count(*) FROM activities_interaction
        WHERE account_id IN (SELECT id FROM sub) AND classification = ANY(%(classes)s) AND occurred_at >= %(since)s);

-- people: first 50 positions here and below (own first, current first), with person, specialty, committee
SELECT p.id, p.title, p.role_in_decision, p.is_primary, p.valid_from, p.valid_to,
       p.account_id <> %(account_id)s AS inherited,
       (p.valid_to IS NULL OR p.valid_to >= %(today)s) AS is_current,
       s.id, s.prefix, s.first_name, s.last_name, s.credentials, s.kind, s.npi, s.do_not_contact,
       sp.display_name, a.id, a.name, a.type, c.name
FROM stakeholders_position p
JOIN accounts_account a ON a.id = p.account_id
JOIN stakeholders_stakeholder s ON s.id = p.stakeholder_id
LEFT JOIN stakeholders_specialty sp ON sp.code = s.specialty_id
LEFT JOIN stakeholders_committee c ON c.id = p.committee_id
WHERE p.account_id IN (SELECT id FROM accounts_account
                       WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[])
ORDER BY inherited, is_current DESC, a.name, p.title
LIMIT 50;

-- how many positions in all
SELECT count(*) FROM stakeholders_position
WHERE account_id IN (SELECT id FROM accounts_account
                     WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]);

-- open plans here and below (first 10)
SELECT pl.id, pl.name, pl.status, pl.period_start, pl.period_end, a.name, o.first_name, o.last_name
FROM plans_accountplan pl
JOIN accounts_account a ON a.id = pl.account_id
JOIN core_user o ON o.id = pl.owner_id
WHERE pl.account_id IN (SELECT id FROM accounts_account
                        WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[])
  AND pl.status = ANY(%(open_statuses)s)
ORDER BY pl.period_start DESC, pl.name
LIMIT 10;

-- latest visible interactions here and below (first 10)
SELECT i.id, i.occurred_at, i.channel, i.subject, i.classification, a.name, u.first_name, u.last_name
FROM activities_interaction i
JOIN accounts_account a ON a.id = i.account_id
JOIN core_user u ON u.id = i.created_by_id
WHERE i.account_id IN (SELECT id FROM accounts_account
                       WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[])
  AND i.classification = ANY(%(classes)s)
ORDER BY i.occurred_at DESC
LIMIT 10;

-- committees of the account
SELECT id, name, kind, meeting_cadence, next_meeting FROM stakeholders_committee
WHERE account_id = %(account_id)s ORDER BY name;

-- account team
SELECT m.id, m.role, m.function, m.start_date, m.end_date, u.id, u.first_name, u.last_name, u.title
FROM accounts_accountteammember m JOIN core_user u ON u.id = m.user_id
WHERE m.account_id = %(account_id)s
ORDER BY (m.end_date IS NULL OR m.end_date >= %(today)s) DESC, m.start_date, u.last_name;

-- affiliations, both directions
SELECT f.id, f.type, f.start_date, f.end_date, f.from_account_id = %(account_id)s AS outgoing, o.id, o.name, o.type
FROM accounts_accountaffiliation f
JOIN accounts_account o ON o.id = CASE WHEN f.from_account_id = %(account_id)s THEN f.to_account_id
                                       ELSE f.from_account_id END
WHERE f.from_account_id = %(account_id)s OR f.to_account_id = %(account_id)s
ORDER BY f.type, o.name;

-- recent history of the account row
SELECT pgh_id, pgh_created_at, pgh_label, pgh_context_id FROM accounts_accountevent
WHERE pgh_obj_id = %(account_id)s ORDER BY pgh_created_at DESC LIMIT 50;
