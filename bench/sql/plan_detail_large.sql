-- Question: the whole plan page of the benchmark plan (50 objectives, 300 actions) for one user — the plan in
-- the user's scope, its tree (objectives → tactics the user may see → actions), every section (customer priorities,
-- SWOT items of visible classifications with the objectives they drive, goals → CSFs → key actions, stages and
-- steps), the lifecycle records (reviews, approved versions, customer agreement), the template and whether a
-- decision maker is mapped at the account or below it.

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
SELECT pl.*, a.name AS account_name, o.first_name, o.last_name, t.name, t.sections, t.required_fields,
       t.stale_after_days
FROM plans_accountplan pl
JOIN accounts_account a ON a.id = pl.account_id
JOIN core_user o ON o.id = pl.owner_id
LEFT JOIN plans_plantemplate t ON t.id = pl.template_id
WHERE pl.id = %(plan_id)s
  AND (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct));

-- the tree
SELECT o.id, o.title, o.metric, o.baseline, o.target, o.current, o.due_date, o.indicator, o.shared_with_customer,
       ou.first_name, ou.last_name,
       t.id, t.title, t.classification, t.function, t.shared_with_customer, tu.first_name, tu.last_name,
       x.id, x.title, x.status, x.start_date, x.due_date, x.completed_at, x.is_milestone, x.shared_with_customer,
       xo.first_name, xo.last_name, xa.first_name, xa.last_name
FROM plans_objective o
LEFT JOIN core_user ou ON ou.id = o.owner_id
LEFT JOIN plans_tactic t ON t.objective_id = o.id AND t.classification = ANY(%(classes)s)
LEFT JOIN core_user tu ON tu.id = t.owner_id
LEFT JOIN plans_action x ON x.tactic_id = t.id
LEFT JOIN core_user xo ON xo.id = x.owner_id
LEFT JOIN core_user xa ON xa.id = x.assignee_id
WHERE o.plan_id = %(plan_id)s
ORDER BY o.position, o.id, t.position, t.id, x.position, x.id;

-- customer priorities
SELECT id, title, description, shared_with_customer FROM plans_customerpriority
WHERE plan_id = %(plan_id)s ORDER BY position, id;

-- SWOT with the objectives each item drives
SELECT s.id, s.kind, s.title, s.evidence, s.classification, array_agg(l.objective_id ORDER BY l.objective_id)
FROM plans_swotitem s LEFT JOIN plans_swotobjective l ON l.swot_item_id = s.id
WHERE s.plan_id = %(plan_id)s AND s.classification = ANY(%(classes)s)
GROUP BY s.id ORDER BY s.kind, s.position, s.id;

-- goals → CSFs → key actions
SELECT g.id, g.title, c.id, c.title, c.goal_id, k.id, k.title, k.due_date, k.done, ku.first_name, ku.last_name
FROM plans_criticalsuccessfactor c
LEFT JOIN plans_goal g ON g.id = c.goal_id
LEFT JOIN plans_keyaction k ON k.csf_id = c.id
LEFT JOIN core_user ku ON ku.id = k.owner_id
WHERE c.plan_id = %(plan_id)s ORDER BY g.position, c.position, c.id, k.position, k.id;

-- stages and steps
SELECT st.id, st.name, sp.id, sp.title, sp.done, sp.done_at
FROM plans_planstage st LEFT JOIN plans_planstep sp ON sp.stage_id = st.id
WHERE st.plan_id = %(plan_id)s ORDER BY st.position, st.id, sp.position, sp.id;

-- reviews, approved versions (without their content), customer agreements
SELECT r.kind, r.comment, r.plan_version, r.created_at, u.first_name, u.last_name
FROM plans_planreview r JOIN core_user u ON u.id = r.author_id
WHERE r.plan_id = %(plan_id)s ORDER BY r.created_at DESC, r.id DESC LIMIT 20;
SELECT s.number, s.plan_version, s.created_at, u.first_name, u.last_name
FROM plans_plansnapshot s JOIN core_user u ON u.id = s.approved_by_id
WHERE s.plan_id = %(plan_id)s ORDER BY s.number DESC;
SELECT agreed_on, signatory_name, signatory_title, plan_version FROM plans_customeragreement
WHERE plan_id = %(plan_id)s ORDER BY agreed_on DESC, id DESC;

-- a decision maker mapped at the account or below it (completeness)
SELECT EXISTS (
    SELECT 1 FROM stakeholders_position p JOIN accounts_account a ON a.id = p.account_id
    JOIN plans_accountplan pl ON pl.id = %(plan_id)s
    WHERE (a.id = pl.account_id OR a.ancestors @> ARRAY[pl.account_id]) AND p.role_in_decision = 'decision_maker'
      AND (p.valid_to IS NULL OR p.valid_to > %(today)s)
);
