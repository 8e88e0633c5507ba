"""File formats from and to the outside world — NPPES NPI Registry JSON, Da Vinci FHIR formulary, CSV/XLSX tables.

A pure layer at the bottom (beside core): parsers turn a file into plain dataclasses and say precisely what is
wrong with it (row, field, rule); they import no domain app and write nothing. The domain apps' services import
them and do the writing (dry run first, then all or nothing). See docs/adr/0004.
"""
