-- Question: the coverage analysis of one account: the map data below (the same statements as
-- relationship_map.sql), the committees that decide for it, then the graph metrics computed in SQL where SQL can
-- (degree as the stand-in for PageRank/betweenness, which need a graph library). Here: an IDN with 40
-- hospitals, 2,000 stakeholders and 10,000 links. Access is the account's scope check only. Subtree and people
-- are CTEs with DISTINCT (see relationship_map.sql).

-- positions held (or vacated in the last year) at the account and below, with person and account
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
)
SELECT p.id, p.stakeholder_id, p.account_id, p.committee_id, p.committee_role, p.title, p.role_in_decision,
       p.is_primary, p.valid_from, p.valid_to, a.name, a.depth, s.prefix, s.first_name, s.last_name,
       s.credentials, s.country, s.privacy_restricted, c.name
FROM stakeholders_position p
JOIN accounts_account a ON a.id = p.account_id
JOIN stakeholders_stakeholder s ON s.id = p.stakeholder_id
LEFT JOIN stakeholders_committee c ON c.id = p.committee_id
WHERE p.account_id IN (SELECT id FROM sub)
  AND (p.valid_to IS NULL OR p.valid_to > %(today)s::date - 365)
ORDER BY p.is_primary DESC, a.depth, p.valid_from, p.id;

-- current assessments of those people, made at the account, above it or below it, newest first
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
), people AS (
    SELECT DISTINCT stakeholder_id FROM stakeholders_position
    WHERE account_id IN (SELECT id FROM sub) AND (valid_to IS NULL OR valid_to > %(today)s)
), ctx AS (
    SELECT id FROM sub UNION SELECT unnest(ancestors) FROM accounts_account WHERE id = %(account_id)s
)
SELECT r.stakeholder_id, r.account_id, r.decision_role, r.domain_ids, r.stance, r.influence, a.name
FROM relationships_stakeholderassessment r JOIN accounts_account a ON a.id = r.account_id
WHERE r.superseded_at IS NULL AND r.stakeholder_id IN (SELECT stakeholder_id FROM people)
  AND r.account_id IN (SELECT id FROM ctx)
ORDER BY r.effective_from DESC, r.id DESC;

-- owners of those people
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
), people AS (
    SELECT DISTINCT stakeholder_id FROM stakeholders_position
    WHERE account_id IN (SELECT id FROM sub) AND (valid_to IS NULL OR valid_to > %(today)s)
), ctx AS (
    SELECT id FROM sub UNION SELECT unnest(ancestors) FROM accounts_account WHERE id = %(account_id)s
)
SELECT o.stakeholder_id, o.account_id, o.user_id
FROM relationships_assessmentowner o
WHERE o.stakeholder_id IN (SELECT stakeholder_id FROM people) AND o.account_id IN (SELECT id FROM ctx);

-- relationship strengths of those people, newest first
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
), people AS (
    SELECT DISTINCT stakeholder_id FROM stakeholders_position
    WHERE account_id IN (SELECT id FROM sub) AND (valid_to IS NULL OR valid_to > %(today)s)
), ctx AS (
    SELECT id FROM sub UNION SELECT unnest(ancestors) FROM accounts_account WHERE id = %(account_id)s
)
SELECT x.stakeholder_id, x.account_id, x.user_id, x.current, x.desired
FROM relationships_relationshipstrength x
WHERE x.stakeholder_id IN (SELECT stakeholder_id FROM people) AND x.account_id IN (SELECT id FROM ctx)
ORDER BY x.updated_at DESC, x.id DESC;

-- links between them
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
), people AS (
    SELECT DISTINCT stakeholder_id FROM stakeholders_position
    WHERE account_id IN (SELECT id FROM sub) AND (valid_to IS NULL OR valid_to > %(today)s)
)
SELECT l.id, l.from_stakeholder_id, l.to_stakeholder_id, l.kind, l.strength, l.directional
FROM relationships_influencelink l
WHERE l.from_stakeholder_id IN (SELECT stakeholder_id FROM people)
  AND l.to_stakeholder_id IN (SELECT stakeholder_id FROM people);

-- day of last contact and interactions in the last year per person (visible classifications)
WITH sub AS (
    SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[]
)
SELECT x.stakeholder_id, max((i.occurred_at AT TIME ZONE current_setting('TimeZone'))::date),
       count(*) FILTER (WHERE i.occurred_at >= now() - interval '365 days')
FROM activities_interactionstakeholder x
JOIN activities_interaction i ON i.id = x.interaction_id
WHERE i.account_id IN (SELECT id FROM sub) AND i.classification = ANY(%(classes)s)
GROUP BY x.stakeholder_id;

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
