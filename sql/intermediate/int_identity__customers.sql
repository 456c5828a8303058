-- Each identifier's customer.
-- Grain: one row per identifier (node). Primary key: node_id.
-- A customer is one component of the identity graph. Its `customer_id` is a keyed hash of the
-- component's anchor, the identifier seen first (ties: type, then value), so it stays the same
-- from run to run as long as that identifier stays in the component (and the key stays).
-- `published_value` is what the marts show: an e-mail address as its keyed pseudonym
-- ('em_' + sha256 of key and address), other identifiers as they are (funnel.privacy).
with nodes as (
    select * from intermediate.int_identity__nodes
),

components as (
    select * from intermediate.int_identity__components
),

hubs as (
    select * from intermediate.int_identity__hubs
),

ranked as (
    select
        n.*,
        c.component_id,
        row_number() over (
            partition by c.component_id
            order by n.first_seen_at, n.identifier_type, n.identifier_value
        ) as rank_in_component
    from nodes as n
    inner join components as c on c.node_id = n.node_id
),

anchors as (
    select component_id, identifier_type || ':' || identifier_value as anchor
    from ranked
    where rank_in_component = 1
)

select
    cast(r.node_id as bigint) as node_id,
    cast(r.identifier_type as varchar) as identifier_type,
    cast(r.identifier_value as varchar) as identifier_value,
    cast(case
        when r.identifier_type = 'email'
            then 'em_' || substr(sha256($pseudonym_key || ':' || r.identifier_value), 1, 32)
        else r.identifier_value
    end as varchar) as published_value,
    cast('cus_' || substr(sha256($pseudonym_key || ':' || a.anchor), 1, 16) as varchar)
        as customer_id,
    cast(r.node_id in (select node_id from hubs) as boolean) as is_hub,
    cast(r.first_seen_at as timestamp) as first_seen_at,
    cast(r.last_seen_at as timestamp) as last_seen_at,
    cast(r.records as bigint) as records
from ranked as r
inner join anchors as a on a.component_id = r.component_id
