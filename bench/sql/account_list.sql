-- Question: which accounts may the user see — first page by name, with parent, owner and number of
-- children — and how many are there in total? (the account list page, no filter)
-- Scope = accounts on the user's (current) account teams, accounts they own, accounts in the territories of
-- their team (a lead: also those of the people they manage), and every account below those.
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
), scope AS (  -- UNION, not OR: lets the GIN index on ancestors find the accounts below
    SELECT id FROM direct
    UNION
    SELECT a.id FROM accounts_account a WHERE a.ancestors && ARRAY(SELECT id FROM direct)
)
SELECT a.id, a.name, a.type, a.city, a.state, a.country, a.kam_level, a.status, a.ccn,
       p.name AS parent_name, o.first_name AS owner_first_name, o.last_name AS owner_last_name,
       (SELECT count(*) FROM accounts_account c WHERE c.parent_id = a.id) AS children_count
FROM accounts_account a
LEFT JOIN accounts_account p ON p.id = a.parent_id
LEFT JOIN core_user o ON o.id = a.owner_id
WHERE a.id IN (SELECT id FROM scope)
ORDER BY a.name, a.id
LIMIT %(page_size)s;

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
SELECT count(*) FROM (
    SELECT id FROM direct
    UNION
    SELECT a.id FROM accounts_account a WHERE a.ancestors && ARRAY(SELECT id FROM direct)
) scope;
