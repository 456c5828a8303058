-- Each web session's landing: the page and campaign fields of its first event, which the channel
-- rules (`int_sessions__channels`) and `marts.sessions` read.
-- Grain: one row per session. Primary key: session_id.
select
    cast(s.session_id as varchar) as session_id,
    cast(s.event_id as varchar) as event_id,
    cast(w.page_url as varchar) as page_url,
    cast(w.page_path as varchar) as page_path,
    cast(w.page_referrer as varchar) as page_referrer,
    cast(w.campaign_source as varchar) as campaign_source,
    cast(w.campaign_medium as varchar) as campaign_medium,
    cast(w.campaign_name as varchar) as campaign_name,
    cast(w.campaign_term as varchar) as campaign_term,
    cast(w.campaign_content as varchar) as campaign_content
from intermediate.int_web__sessionized as s
inner join staging.stg_web__events as w on w.event_key = s.event_key
where s.is_session_start
