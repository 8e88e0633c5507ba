-- Question: the P&L of the flagship IDN over the last three years, rolled up over the IDN and everything below it:
-- per month gross sales, discounts, rebates, cost of goods, and cost to serve per category; and per member hospital.
SELECT s.currency, s.period, sum(s.gross_sales), sum(s.discounts), sum(s.rebates), sum(s.cogs)
FROM commercial_salesline s
WHERE s.account_id IN (SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[])
  AND s.period >= (date_trunc('month', %(today)s::date) - interval '36 months')::date AND s.period <= %(today)s
GROUP BY 1, 2;
SELECT c.currency, c.period, c.category, sum(c.amount) FROM commercial_costtoserve c
WHERE c.account_id IN (SELECT id FROM accounts_account WHERE id = %(account_id)s OR ancestors @> ARRAY[%(account_id)s]::bigint[])
  AND c.period >= (date_trunc('month', %(today)s::date) - interval '36 months')::date AND c.period <= %(today)s
GROUP BY 1, 2, 3;
SELECT s.currency, CASE WHEN a.parent_id = %(account_id)s OR a.id = %(account_id)s THEN a.id ELSE a.ancestors[%(child_index)s] END,
       sum(s.gross_sales - s.discounts - s.rebates), sum(s.cogs)
FROM commercial_salesline s JOIN accounts_account a ON a.id = s.account_id
WHERE (a.id = %(account_id)s OR a.ancestors @> ARRAY[%(account_id)s]::bigint[])
  AND s.period >= (date_trunc('month', %(today)s::date) - interval '36 months')::date AND s.period <= %(today)s
GROUP BY 1, 2;
