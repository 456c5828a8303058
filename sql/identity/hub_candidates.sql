-- Hub candidates: identifiers directly linked to more person keys (user ids, e-mails, CRM
-- contacts) than `identity.max_customers_per_identifier`. Only these can join that many customers.
create or replace temp table cc_excluded as
with links as (
    select node_a as node_id, node_b as other from intermediate.int_identity__edges
    union all
    select node_b as node_id, node_a as other from intermediate.int_identity__edges
)
select l.node_id
from links as l
inner join intermediate.int_identity__nodes as o on o.node_id = l.other
where o.is_person_key
group by l.node_id
having count(*) > $max_customers_per_identifier;
