-- Question: every assessed account the user may see, with its latest score and level, and our position on it
-- (relationship coverage: interactions of visible classifications in the last 90 days on the account and its
-- departments/clinics/pharmacies). The portfolio matrix page, no filter.
WITH people AS (
    SELECT id, team_id FROM core_user WHERE id = %(user_id)s OR (%(is_lead)s AND manager_id = %(user_id)s)
), direct AS (
    SELECT m.account_id AS id FROM accounts_accountteammember m
    WHERE m.user_id IN (SELECT id FROM people) AND m.start_date <= %(today)s
      AND (m.end_date IS NULL OR m.end_date >= %(today)s)
    UNION
    SELECT a.id FROM accounts_account a WHERE a.owner_id IN (SELECT id FROM people)
    UNION
    SELECT a.id FROM accounts_account a
    WHERE a.territory_id IN (SELECT tt.territory_id FROM core_teamterritory tt
                             WHERE tt.team_id IN (SELECT team_id FROM people))
), scope AS (
    SELECT id FROM direct
    UNION
    SELECT a.id FROM accounts_account a WHERE a.ancestors && ARRAY(SELECT id FROM direct)
), points AS (
    SELECT t.account_id, a.name, a.type, a.country, a.kam_level, t.total
    FROM evaluation_accounttier t JOIN accounts_account a ON a.id = t.account_id
    WHERE t.account_id IN (SELECT id FROM scope) AND t.total IS NOT NULL
), coverage AS (
    SELECT CASE WHEN a.type IN ('department', 'clinic', 'pharmacy') THEN a.parent_id ELSE a.id END AS unit,
           count(*) AS n
    FROM activities_interaction i JOIN accounts_account a ON a.id = i.account_id
    WHERE i.occurred_at >= %(since)s AND i.classification = ANY(%(classes)s)
      AND (a.id IN (SELECT account_id FROM points)
           OR (a.parent_id IN (SELECT account_id FROM points) AND a.type IN ('department', 'clinic', 'pharmacy')))
    GROUP BY 1
)
SELECT p.account_id, p.name, p.type, p.country, p.kam_level, p.total, least(coalesce(c.n, 0), 12) * 100.0 / 12
FROM points p LEFT JOIN coverage c ON c.unit = p.account_id
ORDER BY p.name, p.account_id;
