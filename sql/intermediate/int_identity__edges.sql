-- Links of the identity graph: two identifiers that appear on the same record.
-- Grain: one row per undirected pair, stored once with node_a < node_b. Primary key: (node_a, node_b).
-- A record has at most three identifiers, one per `priority` (int_identity__observations), so
-- its pairs come from one row per record (its nodes by priority), not from a self-join of
-- every identifier of every record (which spilled 22 GB at 100 million events).
with record_nodes as (
    select
        o.source,
        o.event_id,
        max(case when o.priority = 1 then n.node_id end) as node_1,
        max(case when o.priority = 2 then n.node_id end) as node_2,
        max(case when o.priority = 3 then n.node_id end) as node_3
    from intermediate.int_identity__observations as o
    inner join intermediate.int_identity__nodes as n
        on o.identifier_type = n.identifier_type and o.identifier_value = n.identifier_value
    where o.source <> 'email'  -- an e-mail event has one identifier: no pair
    group by o.source, o.event_id
    having count(*) > 1
),

pairs as (
    select node_1 as x, node_2 as y from record_nodes
    union all
    select node_1, node_3 from record_nodes
    union all
    select node_2, node_3 from record_nodes
)

select distinct
    cast(least(x, y) as bigint) as node_a,
    cast(greatest(x, y) as bigint) as node_b
from pairs
where x is not null and y is not null and x <> y
