-- Links of the identity graph: two identifiers that appear on the same record.
-- Grain: one row per undirected pair, stored once with node_a < node_b. Primary key: (node_a, node_b).
-- The records of a profile carry the same identifiers (int_identity__observations): at most
-- three, one per `priority`, so a profile's pairs come from one row per profile (its nodes by
-- priority), not from a self-join of every identifier (which spilled 22 GB at 100 million
-- events when it was done per record).
with profile_nodes as (
    select
        o.profile_id,
        max(case when o.priority = 1 then n.node_id end) as node_1,
        max(case when o.priority = 2 then n.node_id end) as node_2,
        max(case when o.priority = 3 then n.node_id end) as node_3
    from intermediate.int_identity__observations as o
    inner join intermediate.int_identity__nodes as n
        on o.identifier_type = n.identifier_type and o.identifier_value = n.identifier_value
    where o.source <> 'email'  -- an e-mail profile has one identifier: no pair
    group by o.profile_id
    having count(*) > 1
),

pairs as (
    select node_1 as x, node_2 as y from profile_nodes
    union all
    select node_1, node_3 from profile_nodes
    union all
    select node_2, node_3 from profile_nodes
)

select distinct
    cast(least(x, y) as bigint) as node_a,
    cast(greatest(x, y) as bigint) as node_b
from pairs
where x is not null and y is not null and x <> y
