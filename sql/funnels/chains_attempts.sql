-- Attempts of plain ordered funnels: a chain's level is 1 + the steps it reached from step 2
-- on. A unit's result needs two of its attempts, and only those are kept: the earliest that
-- reached its furthest step (the representative: in the first chain at that level, the
-- earliest attempt whose window still covers the chain's event at that step) and the latest
-- that reached it (the last attempt of the last chain at that level: the window that closes
-- last, which tells whether the unit is still in progress). Both, with their steps, join the
-- attempts of the other funnels. Chains are ordered as their step-1 events are.
create or replace temp table fc_picked as
with furthest as (
    select unit_key, max(step_index) as level
    from fc_chain_steps
    group by unit_key
),

-- Units whose chains reached step 2 or further: the first and last chain at the furthest.
reached as (
    select st.unit_key, f.level, min(st.chain_seq) as first_chain, max(st.chain_seq) as last_chain
    from fc_chain_steps as st
    inner join furthest as f on f.unit_key = st.unit_key and f.level = st.step_index
    group by st.unit_key, f.level
),

picked as (
    select r.unit_key, r.level, r.first_chain as chain_seq, min(s.unit_seq) as start_seq
    from reached as r
    inner join fc_chain_steps as st
        on st.unit_key = r.unit_key and st.chain_seq = r.first_chain
        and st.step_index = r.level
    inner join fc_starts as s on s.unit_key = r.unit_key and s.chain_seq = r.first_chain
    where s.closes_at >= st.occurred_at
    group by r.unit_key, r.level, r.first_chain
    union all
    select r.unit_key, r.level, r.last_chain, c.last_seq
    from reached as r
    inner join fc_chains as c on c.unit_key = r.unit_key and c.chain_seq = r.last_chain
    union all
    -- every attempt of the other units stopped at step 1: their first and last
    select unit_key, 1, null, min(first_seq)
    from fc_chains
    where unit_key not in (select unit_key from furthest)
    group by unit_key
    union all
    select unit_key, 1, null, max(last_seq)
    from fc_chains
    where unit_key not in (select unit_key from furthest)
    group by unit_key
)

select distinct unit_key, level, chain_seq, start_seq from picked;

create or replace temp table fc_attempts as
select
    (select coalesce(max(attempt_id), 0) from fa_attempts)
    + row_number() over (order by s.unit_key, s.unit_seq) as attempt_id,
    s.funnel,
    s.unit_id,
    s.unit_key,
    s.customer_id,
    s.occurred_at as entered_at,
    s.occurred_at + to_seconds(f.window_seconds) as closes_at,
    p.level,
    s.unit_seq,
    p.chain_seq
from fc_picked as p
inner join intermediate.int_funnels__step_events as s
    on s.unit_key = p.unit_key and s.unit_seq = p.start_seq and s.step_index = 1
inner join fa_funnels as f on f.funnel = s.funnel;

insert into fa_attempts
select attempt_id, funnel, unit_id, unit_key, customer_id, entered_at, closes_at, level, unit_seq
from fc_attempts;

insert into fa_steps
select attempt_id, 1, entered_at, unit_seq
from fc_attempts
union all
select a.attempt_id, st.step_index, st.occurred_at, st.unit_seq
from fc_attempts as a
inner join fc_chain_steps as st on st.unit_key = a.unit_key and st.chain_seq = a.chain_seq
where st.step_index <= a.level;
