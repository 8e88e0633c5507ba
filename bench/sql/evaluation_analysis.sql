-- Question (KAM lead): for every tiered account the lead may see (theirs and their reports'), its level and
-- latest score, the effort in the last 90/60/30 days (interactions of visible classifications on the account and
-- its departments, colleagues involved — from the effort snapshot, as the page) and its open plan actions
-- (tactics of visible classifications).
WITH people AS (
    SELECT id, team_id FROM core_user WHERE id = %(lead_id)s OR manager_id = %(lead_id)s
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
), tiered AS (
    SELECT a.id, a.name, a.type, a.kam_level, t.total
    FROM accounts_account a LEFT JOIN evaluation_accounttier t ON t.account_id = a.id
    WHERE a.id IN (SELECT id FROM scope) AND a.kam_level IN ('strategic', 'key', 'basic', 'declined')
), actions AS (
    SELECT p.account_id, count(*) AS n
    FROM plans_action x JOIN plans_tactic t ON t.id = x.tactic_id
    JOIN plans_objective o ON o.id = t.objective_id JOIN plans_accountplan p ON p.id = o.plan_id
    WHERE p.account_id IN (SELECT id FROM tiered) AND t.classification = ANY(%(classes)s)
      AND x.status NOT IN ('done', 'cancelled')
    GROUP BY 1
)
SELECT t.id, t.name, t.type, t.kam_level, t.total, coalesce(e.n90, 0), coalesce(e.n30, 0), coalesce(e.n60, 0),
       coalesce(e.people, 0), coalesce(x.n, 0)
FROM tiered t
LEFT JOIN evaluation_effortsnapshot e ON e.unit_id = t.id AND e.audience = %(audience)s
LEFT JOIN actions x ON x.account_id = t.id
ORDER BY t.name, t.id;
