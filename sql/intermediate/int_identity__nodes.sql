-- The identifiers of the identity graph, numbered.
-- Grain: one row per distinct (identifier_type, identifier_value). Primary key: node_id.
-- Person keys (user id, e-mail, CRM contact) name a person; an anonymous id names a device.
with observations as (
    select * from intermediate.int_identity__observations
),

nodes as (
    select
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(records) as records
    from observations
    group by identifier_type, identifier_value
)

select
    cast(row_number() over (order by identifier_type, identifier_value) as bigint) as node_id,
    cast(identifier_type as varchar) as identifier_type,
    cast(identifier_value as varchar) as identifier_value,
    cast(identifier_type <> 'anonymous_id' as boolean) as is_person_key,
    cast(first_seen_at as timestamp) as first_seen_at,
    cast(last_seen_at as timestamp) as last_seen_at,
    cast(records as bigint) as records
from nodes
