-- Links of the identity graph: two identifiers that appear on the same record.
-- Grain: one row per undirected pair, stored once with node_a < node_b. Primary key: (node_a, node_b).
with observations as (
    select * from intermediate.int_identity__observations
),

nodes as (
    select * from intermediate.int_identity__nodes
),

record_nodes as (
    select o.source, o.event_id, n.node_id
    from observations as o
    inner join nodes as n
        on o.identifier_type = n.identifier_type and o.identifier_value = n.identifier_value
)

select distinct
    cast(a.node_id as bigint) as node_a,
    cast(b.node_id as bigint) as node_b
from record_nodes as a
inner join record_nodes as b
    on a.source = b.source and a.event_id = b.event_id and a.node_id < b.node_id
