-- Question: the whitespace grid of the flagship IDN — its member hospitals × the approved indications of the marketed
-- products: every recorded cell at a hospital or below it (with the hospital it rolls up to), the open opportunities
-- on an indication, and the product-wide formulary status in force at the IDN or a hospital.
SELECT a.id, a.name FROM accounts_account a WHERE a.parent_id = %(account_id)s ORDER BY a.name;
SELECT i.id, i.name, p.name FROM portfolio_indication i JOIN portfolio_product p ON p.id = i.product_id
WHERE i.approved AND p.status IN ('marketed', 'launch') ORDER BY p.name, i.name;
SELECT CASE WHEN a.parent_id = %(account_id)s THEN a.id ELSE a.ancestors[%(child_index)s] END AS col, c.indication_id,
       c.status, c.potential_value, c.our_share, c.competitor, c.contract_end
FROM commercial_whitespacecell c JOIN accounts_account a ON a.id = c.account_id
WHERE a.ancestors @> ARRAY[%(account_id)s]::bigint[];
SELECT o.id, o.account_id, o.indication_id FROM commercial_opportunity o JOIN accounts_account a ON a.id = o.account_id
WHERE a.ancestors @> ARRAY[%(account_id)s]::bigint[] AND o.stage IN ('identified', 'qualified', 'proposal', 'negotiation')
  AND o.indication_id IS NOT NULL;
SELECT f.account_id, f.product_id, f.status FROM market_access_formularystatus f
WHERE (f.account_id = %(account_id)s OR f.account_id IN (SELECT id FROM accounts_account WHERE parent_id = %(account_id)s))
  AND f.effective_from <= %(today)s AND (f.effective_to IS NULL OR f.effective_to >= %(today)s);
