-- Hubs: candidates whose neighbours, in the graph without any candidate, fall into more than
-- `identity.max_customers_per_identifier` components that hold a person key (customers).
-- A hub (a shared device, a support mailbox) is not used as a link; it is reported here.
create or replace table intermediate.int_identity__hubs as
with links as (
    select node_a as node_id, node_b as other from intermediate.int_identity__edges
    union all
    select node_b as node_id, node_a as other from intermediate.int_identity__edges
),

person_components as (
    select distinct l.label
    from cc_labels as l
    inner join intermediate.int_identity__nodes as n on n.node_id = l.node_id
    where n.is_person_key
),

joined as (
    select c.node_id, count(distinct nl.label) as customers_joined
    from cc_excluded as c
    inner join links as k on k.node_id = c.node_id
    inner join cc_labels as nl on nl.node_id = k.other
    where nl.label in (select label from person_components)
    group by c.node_id
)

select
    cast(n.node_id as bigint) as node_id,
    cast(n.identifier_type as varchar) as identifier_type,
    cast(n.identifier_value as varchar) as identifier_value,
    cast(j.customers_joined as bigint) as customers_joined
from joined as j
inner join intermediate.int_identity__nodes as n on n.node_id = j.node_id
where j.customers_joined > $max_customers_per_identifier;
