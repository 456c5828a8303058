-- Web events (Segment spec: page, track, identify), typed and cleaned.
-- Grain: one row per loaded web event. Primary key: event_id.
-- Identifiers pass through the shared cleaning macros (junk values become null, e-mails are
-- trimmed and lower-cased). `device_id` is the anonymous id, or 'user:<user_id>' for an event
-- that carries only a user id: sessions never span two devices. `event_key` is the event id's
-- 128-bit key (its MD5, stored at ingest): models that split web events into parts by id, or
-- join them by id, use it, since a filter on it reaches the scan of the raw table (DuckDB keeps
-- a filter on a computed column above the projection that computes every row).
with source as (
    select * from raw.web_events
),

-- each distinct address is cleaned once, then joined back (see usable_email)
emails as (
    select raw_email, usable_email(address) as email
    from (
        select raw_email, normal_email(raw_email) as address
        from (
            select distinct json_extract_string(traits, '$.email') as raw_email
            from raw.web_events
        )
        where raw_email is not null
    ) as d
),

renamed as (
    select
        trim(message_id) as event_id,
        lower(trim("type")) as event_type,
        nullif(trim(event), '') as track_event,
        nullif(trim(name), '') as page_name,
        clean_identifier(anonymous_id) as anonymous_id,
        clean_identifier(user_id) as user_id,
        e.email,
        occurred_at_utc as occurred_at,
        coalesce(nullif(trim(context_page_url), ''), json_extract_string(properties, '$.url'))
            as page_url,
        coalesce(nullif(trim(context_page_path), ''), json_extract_string(properties, '$.path'))
            as page_path,
        coalesce(
            nullif(trim(context_page_referrer), ''), json_extract_string(properties, '$.referrer')
        ) as page_referrer,
        coalesce(nullif(trim(context_page_title), ''), json_extract_string(properties, '$.title'))
            as page_title,
        nullif(trim(context_campaign_source), '') as campaign_source,
        nullif(trim(context_campaign_medium), '') as campaign_medium,
        nullif(trim(context_campaign_name), '') as campaign_name,
        nullif(trim(context_campaign_term), '') as campaign_term,
        nullif(trim(context_campaign_content), '') as campaign_content,
        nullif(trim(context_user_agent), '') as user_agent,
        nullif(trim(context_session_id), '') as tracker_session_id,
        properties,
        try_cast(json_extract_string(properties, '$.revenue') as double) as revenue,
        json_extract_string(properties, '$.order_id') as order_id,
        _id_key,
        _file,
        _row
    from source as s
    left join emails as e on e.raw_email = json_extract_string(s.traits, '$.email')
),

final as (
    select
        cast(event_id as varchar) as event_id,
        cast(_id_key as uhugeint) as event_key,
        cast(event_type as varchar) as event_type,
        cast(
            case event_type
                when 'track' then track_event
                when 'page' then 'Page Viewed'
                else 'Identified'
            end as varchar
        ) as event_name,
        cast(page_name as varchar) as page_name,
        cast(anonymous_id as varchar) as anonymous_id,
        cast(user_id as varchar) as user_id,
        cast(email as varchar) as email,
        cast(coalesce(anonymous_id, 'user:' || user_id) as varchar) as device_id,
        cast(occurred_at as timestamp) as occurred_at,
        cast(page_url as varchar) as page_url,
        cast(page_path as varchar) as page_path,
        cast(page_referrer as varchar) as page_referrer,
        cast(page_title as varchar) as page_title,
        cast(campaign_source as varchar) as campaign_source,
        cast(campaign_medium as varchar) as campaign_medium,
        cast(campaign_name as varchar) as campaign_name,
        cast(campaign_term as varchar) as campaign_term,
        cast(campaign_content as varchar) as campaign_content,
        cast(user_agent as varchar) as user_agent,
        cast(tracker_session_id as varchar) as tracker_session_id,
        cast(properties as varchar) as properties,
        cast(revenue as double) as revenue,
        cast(order_id as varchar) as order_id,
        cast(_file as varchar) as source_file,
        cast(_row as bigint) as source_row
    from renamed
)

select * from final
