-- Attempts of plain ordered funnels (no step windows, no exclusions), step 2.
-- Every step-1 event starts an attempt, and each step is filled by the earliest matching event
-- after the previous step's: taking the earliest is exact here (no later choice can do
-- better). So an attempt's steps from step 2 on depend only on its step-2 event: the attempts
-- whose earliest step-2 event after them is the same share one *chain* of step events, which
-- is followed once. Of a chain's attempts the latest has the longest window, so it reaches
-- the most steps (the chain's level); an earlier one reaches step k if its window still covers
-- the chain's step-k event.
--
-- Each step-1 event and the earliest step-2 event after it, by one sweep over the unit's
-- events in order (an event matching both steps cannot fill both: the step-2 event must come
-- strictly after).
create or replace temp table fc_starts as
with step_events as (
    select s.unit_key, s.unit_seq, s.occurred_at, s.step_index, f.window_seconds
    from intermediate.int_funnels__step_events as s
    inner join fa_funnels as f on f.funnel = s.funnel
    where f.is_plain and s.step_index in (1, 2)
),

swept as (
    select
        *,
        min(case when step_index = 2 then unit_seq end) over (
            partition by unit_key
            order by unit_seq, step_index desc
            rows between current row and unbounded following
        ) as chain_seq
    from step_events
)

select
    unit_key,
    unit_seq,
    occurred_at,
    occurred_at + to_seconds(window_seconds) as closes_at,
    chain_seq
from swept
where step_index = 1;

-- One row per chain: its first and last step-1 events, and the window of the last one.
-- chain_seq is null for the step-1 events after the unit's last step-2 event.
create or replace temp table fc_chains as
select
    unit_key,
    chain_seq,
    min(unit_seq) as first_seq,
    max(unit_seq) as last_seq,
    max(closes_at) as closes_at
from fc_starts
group by unit_key, chain_seq;

-- The steps the chain's latest attempt reached from step 2 on.
create or replace temp table fc_chain_steps as
select c.unit_key, c.chain_seq, 2 as step_index, s.unit_seq, s.occurred_at
from fc_chains as c
inner join intermediate.int_funnels__step_events as s
    on s.unit_key = c.unit_key and s.unit_seq = c.chain_seq and s.step_index = 2
where s.occurred_at <= c.closes_at;
