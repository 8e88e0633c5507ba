-- Question: load the 1,000,000-line sales file (account, product, month, amounts) raw into a table — a plain COPY, no
-- checks, no resolution of accounts/products, no insert into the sales lines: the floor under any import of that file.
-- The first statement writes the file on the database server once (from the flagship IDN's hospitals and the marketed
-- products); the bench task (openkam/demo/bench_commercial.py) imports the same file through the import job.
DO $do$ BEGIN IF pg_stat_file('/tmp/openkam_bench_sales_1m.csv', true) IS NULL THEN EXECUTE $q$COPY (WITH h AS (SELECT array_agg(id ORDER BY id) AS a FROM accounts_account WHERE parent_id = (SELECT id FROM accounts_account WHERE name = 'Hudson Harbor Health' AND depth = 0 ORDER BY id LIMIT 1)), p AS (SELECT array_agg(name ORDER BY id) AS a FROM portfolio_product WHERE status IN ('marketed', 'launch')) SELECT h.a[1 + mod(g, array_length(h.a, 1))] AS account, p.a[1 + mod(g / 7, array_length(p.a, 1))] AS product, to_char(date '2023-01-01' + make_interval(months => mod(g, 36)), 'YYYY-MM') AS period, 1 + mod(g, 50) AS quantity, (1000 + mod(g, 9000))::numeric(12, 2) AS gross_sales, mod(g, 100)::numeric(12, 2) AS discounts, mod(g, 50)::numeric(12, 2) AS rebates, (200 + mod(g, 900))::numeric(12, 2) AS cogs, 'USD' AS currency FROM h, p, generate_series(1, 1000000) AS g) TO '/tmp/openkam_bench_sales_1m.csv' WITH (FORMAT csv, HEADER true)$q$; END IF; END $do$;
CREATE TEMP TABLE IF NOT EXISTS bench_sales_raw (account text, product text, period text, quantity text, gross_sales text, discounts text, rebates text, cogs text, currency text);
TRUNCATE bench_sales_raw;
COPY bench_sales_raw FROM '/tmp/openkam_bench_sales_1m.csv' WITH (FORMAT csv, HEADER true);
SELECT count(*) FROM bench_sales_raw;
