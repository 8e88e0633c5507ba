-- Question: every assessed account the user may see, with its latest score and level, and our position on it
-- (relationship coverage: interactions of visible classifications in the last 90 days on the account and its
-- departments/clinics/pharmacies, read from the effort snapshot the page reads; it is rebuilt every 10 minutes).
-- The portfolio matrix page, no filter.
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
)
SELECT p.account_id, p.name, p.type, p.country, p.kam_level, p.total, least(coalesce(e.n90, 0), 12) * 100.0 / 12
FROM points p LEFT JOIN evaluation_effortsnapshot e ON e.unit_id = p.account_id AND e.audience = %(audience)s
ORDER BY p.name, p.account_id;
