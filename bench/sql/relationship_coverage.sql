-- Question: the coverage analysis of one account: the map data below (the same statements as
-- relationship_map.sql), the committees that decide for it, then the graph metrics computed in SQL where SQL can
-- (degree as the stand-in for PageRank/betweenness, which need a graph library). Here: an IDN with 40
-- hospitals, 2,000 stakeholders and 10,000 links. Access is the account's scope check only. Subtree and people
-- are CTEs with DISTINCT (see relationship_map.sql).

-- the map data: positions, assessments, owners, strengths, links, last contact
\i relationship_map.sql

-- committees deciding for the account, above it or below it, with their current member counts
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
), ctx AS (
    SELECT id FROM sub UNION SELECT unnest(ancestors) FROM accounts_account WHERE id = %(account_id)s
)
SELECT c.id, c.name, c.kind, c.next_meeting, count(m.id)
FROM stakeholders_committee c
LEFT JOIN stakeholders_position m ON m.committee_id = c.id AND (m.valid_to IS NULL OR m.valid_to > %(today)s)
WHERE c.account_id IN (SELECT id FROM ctx)
GROUP BY c.id, c.name, c.kind, c.next_meeting;

-- degree centrality over the links between them (SQL's stand-in for PageRank and betweenness)
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
), people AS (
    SELECT DISTINCT stakeholder_id FROM stakeholders_position
    WHERE account_id IN (SELECT id FROM sub) AND (valid_to IS NULL OR valid_to > %(today)s)
), between AS (
    SELECT l.from_stakeholder_id, l.to_stakeholder_id FROM relationships_influencelink l
    WHERE l.from_stakeholder_id IN (SELECT stakeholder_id FROM people)
      AND l.to_stakeholder_id IN (SELECT stakeholder_id FROM people)
), ends AS (
    SELECT from_stakeholder_id AS s FROM between UNION ALL SELECT to_stakeholder_id FROM between
)
SELECT s, count(*) AS degree FROM ends GROUP BY s ORDER BY degree DESC LIMIT 20;
