-- Attempts of plain ordered funnels: a chain's level is 1 + the steps it reached from step 2
-- on. A unit's result needs two of its attempts, and only those are kept: the earliest that
-- reached its furthest step (the representative: in the first chain at that level, the
-- earliest attempt whose window still covers the chain's event at that step) and the latest
-- that reached it (the last attempt of the last chain at that level: the window that closes
-- last, which tells whether the unit is still in progress). Chains are ordered as their
-- step-1 events are. Both attempts, with their steps, join the attempts of the other funnels.
create or replace temp table fc_targets as
with units as (
    select unit_key, min(first_seq) as first_seq, max(last_seq) as last_seq
    from fc_chains
    group by unit_key
),

furthest as (
    select unit_key, max(step_index) as level
    from fc_chain_steps
    group by unit_key
),

-- The first and the last chain that reached the unit's furthest step (2 or more).
at_furthest as (
    select st.unit_key, f.level, min(st.chain_seq) as first_chain,
        max(st.chain_seq) as last_chain
    from fc_chain_steps as st
    inner join furthest as f on f.unit_key = st.unit_key and f.level = st.step_index
    group by st.unit_key, f.level
)

select
    u.unit_key,
    coalesce(a.level, 1) as level,
    a.first_chain,
    a.last_chain,
    -- where the representative is: a run of step-1 events, from the first one whose window
    -- covers the furthest step (reached_at)
    coalesce(rep.first_seq, u.first_seq) as rep_from_seq,
    coalesce(rep.last_seq, u.first_seq) as rep_to_seq,
    st.occurred_at as reached_at,
    rep.window_seconds,
    coalesce(latest.last_seq, u.last_seq) as latest_seq
from units as u
left join at_furthest as a on a.unit_key = u.unit_key
left join fc_chains as rep on rep.unit_key = a.unit_key and rep.chain_seq = a.first_chain
left join fc_chain_steps as st
    on st.unit_key = a.unit_key and st.chain_seq = a.first_chain and st.step_index = a.level
left join fc_chains as latest on latest.unit_key = a.unit_key and latest.chain_seq = a.last_chain;

-- One pass over the step-1 events picks both attempts of every unit.
create or replace temp table fc_attempts as
with hits as (
    select
        t.unit_key,
        t.level,
        s.unit_seq,
        s.funnel,
        s.occurred_at,
        s.unit_seq = t.latest_seq as is_latest,
        case when s.unit_seq = t.latest_seq then t.last_chain else t.first_chain end
            as chain_seq,
        s.unit_seq between t.rep_from_seq and t.rep_to_seq
        and (t.reached_at is null
            or s.occurred_at + to_seconds(t.window_seconds) >= t.reached_at) as is_candidate
    from fa_step_events as s
    inner join fc_targets as t on t.unit_key = s.unit_key
    where s.step_index = 1
        and (
            s.unit_seq = t.latest_seq
            or (
                s.unit_seq between t.rep_from_seq and t.rep_to_seq
                and (t.reached_at is null
                    or s.occurred_at + to_seconds(t.window_seconds) >= t.reached_at)
            )
        )
),

picked as (
    select
        *,
        row_number() over (partition by unit_key order by unit_seq) as n
    from hits
    where is_candidate
)

select
    (select coalesce(max(attempt_id), 0) from fa_attempts)
    + row_number() over (order by p.unit_key, p.unit_seq) as attempt_id,
    p.funnel,
    p.unit_key,
    p.occurred_at as entered_at,
    p.occurred_at + to_seconds(f.window_seconds) as closes_at,
    p.level,
    p.unit_seq,
    p.chain_seq
from (
    select unit_key, level, unit_seq, funnel, occurred_at, chain_seq
    from picked
    where n = 1
    union
    select unit_key, level, unit_seq, funnel, occurred_at, chain_seq
    from hits
    where is_latest
) as p
inner join fa_funnels as f on f.funnel = p.funnel;

insert into fa_attempts
select attempt_id, funnel, unit_key, entered_at, closes_at, level, unit_seq
from fc_attempts;

insert into fa_steps
select attempt_id, 1, entered_at, unit_seq
from fc_attempts
union all
select a.attempt_id, st.step_index, st.occurred_at, st.unit_seq
from fc_attempts as a
inner join fc_chain_steps as st on st.unit_key = a.unit_key and st.chain_seq = a.chain_seq
where st.step_index <= a.level;
