-- Question (KAM lead): the formulary dashboard of the lead's scope (theirs and their reports' accounts and
-- everything below, departments left out): per marketed product, how many accounts are in each status today
-- (own record, else the nearest account above deciding for its members; our entry before an imported one); the
-- first 50 accounts (strategic first) with the status of each product; wins and losses of the last 90 days (with
-- the status each change replaced); reviews due in 90 days; committee meetings in 60 days; open plans' targets.
-- (the scope CTE is repeated in each statement: the harness runs statements that return rows)

-- status in force per account × product, counted per product and status
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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
),
cand AS (
    SELECT s.id AS acc, f.product_id, f.id AS fid, 1000000 AS nearness, f.source
    FROM bench_fd_scope s JOIN market_access_formularystatus f ON f.account_id = s.id
    WHERE f.indication_id IS NULL AND f.effective_from <= %(today)s AND (f.effective_to IS NULL OR f.effective_to >= %(today)s)
    UNION ALL
    SELECT s.id, f.product_id, f.id, u.n::int, f.source
    FROM bench_fd_scope s CROSS JOIN LATERAL unnest(s.ancestors) WITH ORDINALITY AS u(anc, n)
    JOIN market_access_formularystatus f ON f.account_id = u.anc AND f.scope = 'members'
    WHERE f.indication_id IS NULL AND f.effective_from <= %(today)s AND (f.effective_to IS NULL OR f.effective_to >= %(today)s)
), best AS (
    SELECT DISTINCT ON (acc, product_id) acc, product_id, fid FROM cand
    ORDER BY acc, product_id, nearness DESC, (source = 'entered') DESC, fid DESC
)
SELECT b.product_id, f.status, count(*) FROM best b JOIN market_access_formularystatus f ON f.id = b.fid GROUP BY 1, 2;

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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
)
SELECT count(*) FROM bench_fd_scope;

-- the first page of the matrix: 50 accounts and their status per product
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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
),
page AS (
    SELECT id, ancestors FROM bench_fd_scope
    ORDER BY CASE kam_level WHEN 'strategic' THEN 0 WHEN 'key' THEN 1 WHEN 'basic' THEN 2 WHEN 'unassessed' THEN 3
             ELSE 4 END, name, id LIMIT 50
), cand AS (
    SELECT p.id AS acc, f.product_id, f.id AS fid, 1000000 AS nearness, f.source
    FROM page p JOIN market_access_formularystatus f ON f.account_id = p.id
    WHERE f.indication_id IS NULL AND f.effective_from <= %(today)s AND (f.effective_to IS NULL OR f.effective_to >= %(today)s)
    UNION ALL
    SELECT p.id, f.product_id, f.id, u.n::int, f.source
    FROM page p CROSS JOIN LATERAL unnest(p.ancestors) WITH ORDINALITY AS u(anc, n)
    JOIN market_access_formularystatus f ON f.account_id = u.anc AND f.scope = 'members'
    WHERE f.indication_id IS NULL AND f.effective_from <= %(today)s AND (f.effective_to IS NULL OR f.effective_to >= %(today)s)
)
SELECT DISTINCT ON (c.acc, c.product_id) c.acc, c.product_id, f.status, f.tier, f.restriction_kinds, f.effective_from,
       f.committee_id, f.account_id
FROM cand c JOIN market_access_formularystatus f ON f.id = c.fid
ORDER BY c.acc, c.product_id, c.nearness DESC, (c.source = 'entered') DESC, c.fid DESC;

-- changes of the last 90 days with the status they replaced
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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
)
SELECT f.id, f.account_id, a.name, f.product_id, p.name, f.status, f.effective_from,
       (SELECT g.status FROM market_access_formularystatus g
        WHERE g.account_id = f.account_id AND g.product_id = f.product_id AND g.source = f.source
          AND g.effective_from < f.effective_from ORDER BY g.effective_from DESC LIMIT 1)
FROM market_access_formularystatus f
JOIN accounts_account a ON a.id = f.account_id JOIN portfolio_product p ON p.id = f.product_id
WHERE f.account_id IN (SELECT id FROM bench_fd_scope) AND f.effective_from >= %(today)s::date - 90
  AND f.effective_from <= %(today)s
ORDER BY f.effective_from DESC, f.id DESC;

-- reviews due in the next 90 days (first 50, and how many)
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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
)
SELECT f.id, a.name, p.name, f.status, f.next_review FROM market_access_formularystatus f
JOIN accounts_account a ON a.id = f.account_id JOIN portfolio_product p ON p.id = f.product_id
WHERE f.account_id IN (SELECT id FROM bench_fd_scope) AND f.next_review BETWEEN %(today)s AND %(today)s::date + 90
  AND (f.effective_to IS NULL OR f.effective_to >= %(today)s)
ORDER BY f.next_review, a.name LIMIT 50;

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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
)
SELECT count(*) FROM market_access_formularystatus f
WHERE f.account_id IN (SELECT id FROM bench_fd_scope) AND f.next_review BETWEEN %(today)s AND %(today)s::date + 90
  AND (f.effective_to IS NULL OR f.effective_to >= %(today)s);

-- committee meetings in the next 60 days
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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
)
SELECT c.id, c.name, c.kind, c.next_meeting, a.name FROM stakeholders_committee c
JOIN accounts_account a ON a.id = c.account_id
WHERE c.account_id IN (SELECT id FROM bench_fd_scope) AND c.kind IN ('p_and_t', 'formulary', 'value_analysis')
  AND c.next_meeting BETWEEN %(today)s AND %(today)s::date + 60
ORDER BY c.next_meeting, c.name LIMIT 20;

-- formulary targets of open plans at those accounts
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
), bench_fd_scope AS (
    SELECT a.id, a.ancestors, a.kam_level, a.name FROM accounts_account a
    WHERE (a.id IN (SELECT id FROM direct) OR a.ancestors && ARRAY(SELECT id FROM direct)) AND a.type <> 'department'
)
SELECT t.id, pl.account_id, t.product_id, t.target_status FROM market_access_formularytarget t
JOIN plans_accountplan pl ON pl.id = t.plan_id
WHERE pl.account_id IN (SELECT id FROM bench_fd_scope) AND pl.status = ANY(%(open_statuses)s);
