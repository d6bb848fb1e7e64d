-- The tenant a line kept aside belongs to, when the line says (a JSON line's or CSV
-- row's tenant field, a session row's tenant): a tenant's own documents list its own
-- rejected lines only. NULL when the line names no tenant that can be read.
ALTER TABLE reject ADD COLUMN tenant TEXT;
