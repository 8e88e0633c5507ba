-- Question: one plan the user may see, with its whole tree — objectives → tactics of the classifications
-- the user may see → actions (owners, assignees, dates, statuses) — in display order.

-- the plan, checked against the user's scope
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
SELECT pl.*, a.name AS account_name, o.first_name, o.last_name
FROM plans_accountplan pl
JOIN accounts_account a ON a.id = pl.account_id
JOIN core_user o ON o.id = pl.owner_id
WHERE pl.id = %(plan_id)s
  AND (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct));

-- the tree
SELECT o.id, o.title, o.metric, o.baseline, o.target, o.current, o.due_date, o.indicator,
       t.id, t.title, t.classification, t.function, t.shared_with_customer, tu.first_name, tu.last_name,
       x.id, x.title, x.status, x.start_date, x.due_date, x.completed_at,
       xo.first_name, xo.last_name, xa.first_name, xa.last_name
FROM plans_objective o
LEFT JOIN plans_tactic t ON t.objective_id = o.id AND t.classification = ANY(%(classes)s)
LEFT JOIN core_user tu ON tu.id = t.owner_id
LEFT JOIN plans_action x ON x.tactic_id = t.id
LEFT JOIN core_user xo ON xo.id = x.owner_id
LEFT JOIN core_user xa ON xa.id = x.assignee_id
WHERE o.plan_id = %(plan_id)s
ORDER BY o.position, o.id, t.position, t.id, x.position, x.id;
