-- Question: everything the relationship map of one account shows (here: an IDN with 40 hospitals, 2,000
-- stakeholders and 10,000 links), hand-written: positions at the account and below (people and vacated roles),
-- the current assessments, owners and strengths made there or above, the links between those people, the
-- committees that decide for it and the last contact per person. Access is the account's scope check only.

-- positions held (or vacated in the last year) at the account and below, with person and account
SELECT p.id, p.stakeholder_id, p.account_id, p.committee_id, p.committee_role, p.title, p.role_in_decision,
       p.is_primary, p.valid_from, p.valid_to, a.name, a.depth, s.prefix, s.first_name, s.last_name,
       s.credentials, s.country, s.privacy_restricted, c.name
FROM stakeholders_position p
JOIN accounts_account a ON a.id = p.account_id
JOIN stakeholders_stakeholder s ON s.id = p.stakeholder_id
LEFT JOIN stakeholders_committee c ON c.id = p.committee_id
WHERE (p.account_id = %(account_id)s OR a.ancestors @> ARRAY[%(account_id)s]::bigint[])
  AND (p.valid_to IS NULL OR p.valid_to > %(today)s::date - 365);

-- current assessments of those people at the account, above it or below it
WITH people AS (
    SELECT DISTINCT p.stakeholder_id FROM stakeholders_position p JOIN accounts_account a ON a.id = p.account_id
    WHERE (p.account_id = %(account_id)s OR a.ancestors @> ARRAY[%(account_id)s]::bigint[])
      AND (p.valid_to IS NULL OR p.valid_to > %(today)s)
)
SELECT r.stakeholder_id, r.account_id, r.decision_role, r.domain_ids, r.stance, r.influence, r.effective_from
FROM relationships_stakeholderassessment r
WHERE r.superseded_at IS NULL AND r.stakeholder_id IN (SELECT stakeholder_id FROM people);

-- relationship strengths and owners of those people
WITH people AS (
    SELECT DISTINCT p.stakeholder_id FROM stakeholders_position p JOIN accounts_account a ON a.id = p.account_id
    WHERE (p.account_id = %(account_id)s OR a.ancestors @> ARRAY[%(account_id)s]::bigint[])
      AND (p.valid_to IS NULL OR p.valid_to > %(today)s)
)
SELECT x.stakeholder_id, x.account_id, x.user_id, x.current, x.desired, NULL::date
FROM relationships_relationshipstrength x WHERE x.stakeholder_id IN (SELECT stakeholder_id FROM people)
UNION ALL
SELECT o.stakeholder_id, o.account_id, o.user_id, NULL, NULL, o.since
FROM relationships_assessmentowner o WHERE o.stakeholder_id IN (SELECT stakeholder_id FROM people);

-- links between them
WITH people AS (
    SELECT DISTINCT p.stakeholder_id FROM stakeholders_position p JOIN accounts_account a ON a.id = p.account_id
    WHERE (p.account_id = %(account_id)s OR a.ancestors @> ARRAY[%(account_id)s]::bigint[])
      AND (p.valid_to IS NULL OR p.valid_to > %(today)s)
)
SELECT l.id, l.from_stakeholder_id, l.to_stakeholder_id, l.kind, l.strength, l.directional
FROM relationships_influencelink l
WHERE l.from_stakeholder_id IN (SELECT stakeholder_id FROM people)
  AND l.to_stakeholder_id IN (SELECT stakeholder_id FROM people);

-- committees deciding for the account or below it, with their current member counts
SELECT c.id, c.name, c.kind, c.next_meeting,
       (SELECT count(*) FROM stakeholders_position m WHERE m.committee_id = c.id
          AND (m.valid_to IS NULL OR m.valid_to > %(today)s))
FROM stakeholders_committee c JOIN accounts_account a ON a.id = c.account_id
WHERE c.account_id = %(account_id)s OR a.ancestors @> ARRAY[%(account_id)s]::bigint[];

-- last contact and interactions in the last year per person (visible classifications)
SELECT x.stakeholder_id, max(i.occurred_at), count(*) FILTER (WHERE i.occurred_at >= now() - interval '365 days')
FROM activities_interactionstakeholder x
JOIN activities_interaction i ON i.id = x.interaction_id
JOIN accounts_account a ON a.id = i.account_id
WHERE (i.account_id = %(account_id)s OR a.ancestors @> ARRAY[%(account_id)s]::bigint[])
  AND i.classification = ANY(%(classes)s)
GROUP BY x.stakeholder_id;
