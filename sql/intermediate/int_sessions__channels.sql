-- Each session's traffic source, medium and channel: the one place channel rules live.
-- Grain: one row per session. Primary key: session_id.
--
-- Source / medium, from the session's first event, first rule that applies:
-- 1. campaign parameters: context.campaign, else utm_* in the landing URL ('(not set)' if absent);
-- 2. a Google click id (gclid, gbraid, wbraid) in the landing URL: google / cpc;
--    a Microsoft click id (msclkid): bing / cpc;
-- 3. an external referrer (not the landing page's host, not in `channels.internal_hosts`):
--    its host (without 'www.') / 'organic' for a search engine, else 'referral';
-- 4. otherwise (direct) / (none).
-- Channel: Google Analytics 4's default channel grouping, its rules in its order. Source
-- categories (search, social, video, shopping) come from `channels.*_sources` in funnel.yaml;
-- a source matches a listed name when it equals it or contains it as a dot-separated label
-- ('www.google.co.uk' and 'google' both match 'google').
with landing as (
    select * from intermediate.int_sessions__landings
),

parsed as (
    select
        session_id,
        campaign_name,
        lower(coalesce(
            campaign_source,
            url_decode(nullif(regexp_extract(page_url, '[?&]utm_source=([^&#]*)', 1), ''))
        )) as utm_source,
        lower(coalesce(
            campaign_medium,
            url_decode(nullif(regexp_extract(page_url, '[?&]utm_medium=([^&#]*)', 1), ''))
        )) as utm_medium,
        lower(coalesce(
            campaign_name,
            url_decode(nullif(regexp_extract(page_url, '[?&]utm_campaign=([^&#]*)', 1), ''))
        )) as utm_campaign,
        regexp_matches(coalesce(page_url, ''), '[?&](gclid|gbraid|wbraid)=') as has_google_click_id,
        regexp_matches(coalesce(page_url, ''), '[?&]msclkid=') as has_microsoft_click_id,
        nullif(lower(regexp_extract(
            page_referrer, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]+)', 1
        )), '') as referrer_host,
        nullif(lower(regexp_extract(
            page_url, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]+)', 1
        )), '') as landing_host
    from landing
),

attributed as (
    select
        *,
        referrer_host is not null
        and referrer_host <> coalesce(landing_host, '')
        and referrer_host not in (select host from config.internal_hosts) as is_external_referrer
    from parsed
),

sources as (
    select
        session_id,
        coalesce(utm_campaign, '') as campaign,
        utm_medium,
        case
            when utm_source is not null or utm_medium is not null then 'campaign'
            when has_google_click_id or has_microsoft_click_id then 'click_id'
            when is_external_referrer then 'referrer'
            else 'direct'
        end as origin,
        case
            when utm_source is not null or utm_medium is not null
                then coalesce(utm_source, '(not set)')
            when has_google_click_id then 'google'
            when has_microsoft_click_id then 'bing'
            when is_external_referrer and referrer_host like 'www.%' then substr(referrer_host, 5)
            when is_external_referrer then referrer_host
            else '(direct)'
        end as traffic_source
    from attributed
),

source_categories as (
    select
        s.traffic_source,
        max(case when cs.category = 'search' then 1 else 0 end) = 1 as is_search_source,
        max(case when cs.category = 'social' then 1 else 0 end) = 1 as is_social_source,
        max(case when cs.category = 'video' then 1 else 0 end) = 1 as is_video_source,
        max(case when cs.category = 'shopping' then 1 else 0 end) = 1 as is_shopping_source
    from (select distinct traffic_source from sources) as s
    left join config.channel_sources as cs
        on ('.' || s.traffic_source || '.') like ('%.' || cs.source || '.%')
    group by s.traffic_source
),

categorized as (
    select
        s.session_id,
        s.campaign,
        s.traffic_source,
        case s.origin
            when 'campaign' then coalesce(s.utm_medium, '(not set)')
            when 'click_id' then 'cpc'
            when 'referrer' then case when c.is_search_source then 'organic' else 'referral' end
            else '(none)'
        end as traffic_medium,
        c.is_search_source,
        c.is_social_source,
        c.is_video_source,
        c.is_shopping_source,
        regexp_matches(s.campaign, '^(.*(([^a-df-z]|^)shop|shopping).*)$') as is_shopping_campaign
    from sources as s
    inner join source_categories as c on c.traffic_source = s.traffic_source
),

mediums as (
    select
        *,
        regexp_matches(traffic_medium, '^(.*cp.*|ppc|retargeting|paid.*)$') as is_paid_medium
    from categorized
),

channels as (
    select
        session_id,
        traffic_source,
        traffic_medium,
        case
            when traffic_source = '(direct)' and traffic_medium in ('(none)', '(not set)')
                then 'Direct'
            when campaign like '%cross-network%' then 'Cross-network'
            when (is_shopping_source or is_shopping_campaign) and is_paid_medium
                then 'Paid Shopping'
            when is_search_source and is_paid_medium then 'Paid Search'
            when is_social_source and is_paid_medium then 'Paid Social'
            when is_video_source and is_paid_medium then 'Paid Video'
            when traffic_medium in ('display', 'banner', 'expandable', 'interstitial', 'cpm')
                then 'Display'
            when is_paid_medium then 'Paid Other'
            when is_shopping_source or is_shopping_campaign then 'Organic Shopping'
            when is_social_source
                or traffic_medium in (
                    'social', 'social-network', 'social-media', 'sm', 'social network',
                    'social media'
                )
                then 'Organic Social'
            when is_video_source or traffic_medium like '%video%' then 'Organic Video'
            when is_search_source or traffic_medium = 'organic' then 'Organic Search'
            when traffic_medium in ('referral', 'app', 'link') then 'Referral'
            when traffic_source in ('email', 'e-mail', 'e_mail', 'e mail')
                or traffic_medium in ('email', 'e-mail', 'e_mail', 'e mail')
                then 'Email'
            when traffic_medium = 'affiliate' then 'Affiliates'
            when traffic_medium = 'audio' then 'Audio'
            when traffic_source = 'sms' or traffic_medium = 'sms' then 'SMS'
            when traffic_medium like '%push'
                or traffic_medium like '%mobile%'
                or traffic_medium like '%notification%'
                or traffic_source = 'firebase'
                then 'Mobile Push Notifications'
            else 'Unassigned'
        end as channel
    from mediums
)

select
    cast(session_id as varchar) as session_id,
    cast(traffic_source as varchar) as traffic_source,
    cast(traffic_medium as varchar) as traffic_medium,
    cast(channel as varchar) as channel
from channels
