-- Question: everything a plan export shows, for the subject user: the plan (checked against the user's scope),
-- objectives → tactics of the classifications the user may see → actions with owners and assignees, the SWOT
-- items, the critical success factors with their key actions, and the first 40 people with a decision role at
-- the account and below it (decision makers first) with the count per role.

-- the plan, checked against the user's scope
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
)
SELECT pl.*, a.name AS account_name, a.type, a.kam_level, a.city, a.state, o.first_name, o.last_name
FROM plans_accountplan pl
JOIN accounts_account a ON a.id = pl.account_id
JOIN core_user o ON o.id = pl.owner_id
WHERE pl.id = %(plan_id)s
  AND (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct));

-- the tree
SELECT o.id, o.title, o.description, o.metric, o.baseline, o.target, o.current, o.due_date, o.indicator,
       o.shared_with_customer, ou.first_name, ou.last_name,
       t.id, t.title, t.description, t.classification, t.function, t.shared_with_customer, tu.first_name, tu.last_name,
       x.id, x.title, x.description, x.status, x.start_date, x.due_date, x.completed_at, x.is_milestone,
       x.shared_with_customer, xo.first_name, xo.last_name, xa.first_name, xa.last_name
FROM plans_objective o
LEFT JOIN core_user ou ON ou.id = o.owner_id
LEFT JOIN plans_tactic t ON t.objective_id = o.id AND t.classification = ANY(%(classes)s)
LEFT JOIN core_user tu ON tu.id = t.owner_id
LEFT JOIN plans_action x ON x.tactic_id = t.id
LEFT JOIN core_user xo ON xo.id = x.owner_id
LEFT JOIN core_user xa ON xa.id = x.assignee_id
WHERE o.plan_id = %(plan_id)s
ORDER BY o.position, o.id, t.position, t.id, x.position, x.id;

-- SWOT with the objectives each item drives
SELECT s.kind, s.title, s.evidence, s.classification, array_agg(l.objective_id) AS drives
FROM plans_swotitem s LEFT JOIN plans_swotobjective l ON l.swot_item_id = s.id
WHERE s.plan_id = %(plan_id)s AND s.classification = ANY(%(classes)s)
GROUP BY s.id ORDER BY s.kind, s.position, s.id;

-- critical success factors and key actions
SELECT c.title, c.description, g.title, k.title, k.due_date, k.done, ku.first_name, ku.last_name
FROM plans_criticalsuccessfactor c
LEFT JOIN plans_goal g ON g.id = c.goal_id
LEFT JOIN plans_keyaction k ON k.csf_id = c.id
LEFT JOIN core_user ku ON ku.id = k.owner_id
WHERE c.plan_id = %(plan_id)s ORDER BY c.position, c.id, k.position, k.id;

-- key people of the account subtree: counts per role, then the first 40 (decision makers first)
SELECT p.role_in_decision, count(*)
FROM stakeholders_position p JOIN accounts_account a ON a.id = p.account_id
JOIN stakeholders_stakeholder s ON s.id = p.stakeholder_id
WHERE (a.id = (SELECT account_id FROM plans_accountplan WHERE id = %(plan_id)s)
       OR a.ancestors @> ARRAY[(SELECT account_id FROM plans_accountplan WHERE id = %(plan_id)s)]::bigint[])
  AND (p.valid_to IS NULL OR p.valid_to > %(today)s) AND s.erased_at IS NULL
  AND p.role_in_decision IN ('decision_maker', 'approver', 'champion', 'influencer', 'gatekeeper', 'blocker')
GROUP BY p.role_in_decision;

SELECT s.first_name, s.last_name, p.title, a.name, c.name, p.role_in_decision
FROM stakeholders_position p JOIN accounts_account a ON a.id = p.account_id
JOIN stakeholders_stakeholder s ON s.id = p.stakeholder_id
LEFT JOIN stakeholders_committee c ON c.id = p.committee_id
WHERE (a.id = (SELECT account_id FROM plans_accountplan WHERE id = %(plan_id)s)
       OR a.ancestors @> ARRAY[(SELECT account_id FROM plans_accountplan WHERE id = %(plan_id)s)]::bigint[])
  AND (p.valid_to IS NULL OR p.valid_to > %(today)s) AND s.erased_at IS NULL
  AND p.role_in_decision IN ('decision_maker', 'approver', 'champion', 'influencer', 'gatekeeper', 'blocker')
ORDER BY array_position(ARRAY['decision_maker', 'approver', 'champion', 'influencer', 'gatekeeper', 'blocker'],
                        p.role_in_decision::text), a.name, p.title, p.id
LIMIT 40;
