-- Events that fill a funnel step or void an attempt (exclusions), for every configured funnel
-- and the journey (funnel 'journey', one step per stage).
-- Grain: one row per (funnel, step_index or exclusion, event). step_index is null for an
-- exclusion event, which carries the steps it lies between (exclude_from, exclude_to).
--
-- Matching: an event matches a matcher when its source and event name equal the matcher's
-- (where given) and every `where` condition holds; a condition with a list (`in`) holds when
-- one of its values does. Numbers compare as numbers, text as text; a missing field never
-- matches. Matchers and conditions are rows of the config schema (from funnel.yaml), so this
-- query never changes with the configuration.
-- A step with `occurrence` n is filled only by its n-th and later matching events of the unit.
-- `unit_id` is the customer, or the session for a funnel counted by session; `unit_seq` orders
-- all events of the unit (time, then source, then event id): strict funnels need it.
with events as (
    select
        e.*,
        row_number() over (
            partition by customer_id order by occurred_at, source, event_id
        ) as customer_seq,
        case when session_id is not null then row_number() over (
            partition by session_id order by occurred_at, source, event_id
        ) end as session_seq
    from marts.events as e
),

matchers as (
    select * from config.funnel_matchers
),

conditions as (
    select * from config.matcher_conditions
),

candidates as (
    select m.matcher_id, e.*
    from events as e
    inner join matchers as m
        on m.event_name = e.event_name and (m.source is null or m.source = e.source)
    union all
    select m.matcher_id, e.*
    from events as e
    inner join matchers as m
        on m.event_name is null and (m.source is null or m.source = e.source)
),

field_values as (
    select
        c.matcher_id,
        c.source,
        c.event_id,
        k.condition_id,
        k.op,
        k.value_text,
        k.value_number,
        case k.field
            when 'source' then c.source
            when 'event_type' then c.event_type
            when 'event_name' then c.event_name
            when 'page_name' then c.page_name
            when 'page_url' then c.page_url
            when 'page_path' then c.page_path
            when 'page_title' then c.page_title
            when 'referrer' then c.referrer
            when 'campaign_source' then c.campaign_source
            when 'campaign_medium' then c.campaign_medium
            when 'campaign_name' then c.campaign_name
            when 'channel' then c.channel
            when 'revenue' then cast(c.revenue as varchar)
            when 'currency' then c.currency
            when 'order_id' then c.order_id
            when 'deal_id' then c.deal_id
            when 'stage' then c.stage
            when 'score' then cast(c.score as varchar)
            when 'email_campaign_id' then c.email_campaign_id
            when 'email_campaign_name' then c.email_campaign_name
            when 'link_url' then c.link_url
            else json_extract_string(c.properties, '$.' || substr(k.field, 12))
        end as field_value
    from candidates as c
    inner join conditions as k on k.matcher_id = c.matcher_id
),

evaluated as (
    select
        matcher_id,
        source,
        event_id,
        condition_id,
        max(case
            when value_number is not null then case op
                when '==' then try_cast(field_value as double) = value_number
                when '!=' then try_cast(field_value as double) <> value_number
                when '>=' then try_cast(field_value as double) >= value_number
                when '<=' then try_cast(field_value as double) <= value_number
                when '>' then try_cast(field_value as double) > value_number
                when '<' then try_cast(field_value as double) < value_number
            end
            else case op
                when '==' then field_value = value_text
                when '!=' then field_value <> value_text
                when '>=' then field_value >= value_text
                when '<=' then field_value <= value_text
                when '>' then field_value > value_text
                when '<' then field_value < value_text
            end
        end) as holds
    from field_values
    group by matcher_id, source, event_id, condition_id
),

failed as (
    select distinct matcher_id, source, event_id
    from evaluated
    where holds is not true
),

matched as (
    select c.*
    from candidates as c
    where not exists (
        select 1 from failed as f
        where f.matcher_id = c.matcher_id and f.source = c.source and f.event_id = c.event_id
    )
),

with_units as (
    select distinct
        m.funnel,
        m.step_index,
        m.exclude_from,
        m.exclude_to,
        case f.count_by when 'session' then e.session_id else e.customer_id end as unit_id,
        case f.count_by when 'session' then e.session_seq else e.customer_seq end as unit_seq,
        e.customer_id,
        e.source,
        e.event_id,
        e.occurred_at
    from matched as e
    inner join matchers as m on m.matcher_id = e.matcher_id
    inner join config.funnels as f on f.funnel = m.funnel
    where f.count_by = 'customer' or e.session_id is not null
),

ranked as (
    select
        w.*,
        case when w.step_index is null then 1 else row_number() over (
            partition by w.funnel, w.step_index, w.unit_id order by w.unit_seq
        ) end as occurrence
    from with_units as w
)

select
    cast(r.funnel as varchar) as funnel,
    cast(r.step_index as integer) as step_index,
    cast(r.exclude_from as integer) as exclude_from,
    cast(r.exclude_to as integer) as exclude_to,
    cast(r.unit_id as varchar) as unit_id,
    cast(r.unit_seq as bigint) as unit_seq,
    cast(r.customer_id as varchar) as customer_id,
    cast(r.source as varchar) as source,
    cast(r.event_id as varchar) as event_id,
    cast(r.occurred_at as timestamp) as occurred_at
from ranked as r
left join config.funnel_steps as s on s.funnel = r.funnel and s.step_index = r.step_index
where r.step_index is null or r.occurrence >= s.occurrence
