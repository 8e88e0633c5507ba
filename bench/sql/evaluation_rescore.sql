-- Question: for every assessed account, its latest assessment re-scored against the active version of its model
-- (criteria matched by key, weights renormalised) and the tier that score maps to — the re-score of all accounts
-- as one set-based statement, every row fetched (the task also writes the changed totals and moves levels).
WITH calc AS (
    SELECT t.id AS tier_id, t.account_id, act.id AS model_id,
           round(100 * sum(c2.weight * (LEAST(GREATEST(s.score, act.scale_min), act.scale_max) - act.scale_min)::numeric
                 / (act.scale_max - act.scale_min)) / nullif(sum(c2.weight), 0), 2) AS total
    FROM evaluation_accounttier t
    JOIN evaluation_assessment a ON a.id = t.assessment_id
    JOIN evaluation_scoringmodel m ON m.id = a.model_id
    JOIN evaluation_scoringmodel act ON act.code = m.code AND act.status = 'active'
    JOIN evaluation_score s ON s.assessment_id = a.id
    JOIN evaluation_criterion c1 ON c1.id = s.criterion_id
    JOIN evaluation_criterion c2 ON c2.model_id = act.id AND c2.key = c1.key
    GROUP BY t.id, t.account_id, act.id
)
SELECT calc.account_id, calc.total,
       CASE WHEN calc.total >= m.strategic_min THEN 'strategic' WHEN calc.total >= m.key_min THEN 'key'
            WHEN calc.total >= m.basic_min THEN 'basic' ELSE 'declined' END AS level
FROM calc JOIN evaluation_scoringmodel m ON m.id = calc.model_id;
