-- Each record's customer.
-- Grain: one row per (source, event_id). Primary key: (source, event_id).
-- A record belongs to the customer of its first identifier (by `priority`) that is not a hub;
-- all of a record's non-hub identifiers are linked by the record itself, so they agree. A record
-- whose identifiers are all hubs belongs to its first hub's own customer (`via_hub`).
with observations as (
    select * from intermediate.int_identity__observations
),

customers as (
    select * from intermediate.int_identity__customers
),

chosen as (
    -- the first non-hub identifier by priority, else the first hub (priorities are distinct
    -- within a record); the record is attributed through a hub only if all of them are hubs
    select
        o.source,
        o.event_id,
        min_by(c.customer_id, struct_pack(c.is_hub, o.priority)) as customer_id,
        bool_and(c.is_hub) as via_hub
    from observations as o
    inner join customers as c
        on c.identifier_type = o.identifier_type and c.identifier_value = o.identifier_value
    group by o.source, o.event_id
)

select
    cast(source as varchar) as source,
    cast(event_id as varchar) as event_id,
    cast(customer_id as varchar) as customer_id,
    cast(via_hub as boolean) as via_hub
from chosen
