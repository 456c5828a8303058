-- Attempts of plain ordered funnels (no step windows, no exclusions), step 2.
-- Every step-1 event starts an attempt, and each step is filled by the earliest matching event
-- after the previous step's: taking the earliest is exact here (no later choice can do
-- better). So an attempt's steps from step 2 on depend only on its step-2 event: the attempts
-- whose earliest step-2 event after them is the same share one *chain* of step events, which
-- is followed once. A chain's attempts are a run of consecutive step-1 events of the unit; the
-- latest has the longest window, so it reaches the most steps (the chain's level), and an
-- earlier one reaches step k if its window still covers the chain's step-k event.
--
-- The chains: one sweep over the unit's step-1 and step-2 events in order finds the earliest
-- step-2 event after each step-1 event (strictly after: an event matching both steps cannot
-- fill both); the step-1 events with the same one form a chain. chain_seq is null for the
-- step-1 events after the unit's last step-2 event.
create or replace temp table fc_chains as
with step_events as (
    select s.unit_key, s.unit_seq, s.occurred_at, s.step_index, f.window_seconds
    from fa_step_events as s
    inner join fa_funnels as f on f.funnel = s.funnel
    where f.is_plain and s.step_index in (1, 2)
),

swept as (
    select
        *,
        min(case when step_index = 2 then unit_seq end) over ahead as chain_seq,
        min(case when step_index = 2 then occurred_at end) over ahead as step_2_at
    from step_events
    window ahead as (
        partition by unit_key
        order by unit_seq, step_index desc
        rows between current row and unbounded following
    )
)

select
    unit_key,
    chain_seq,
    min(step_2_at) as step_2_at,
    min(unit_seq) as first_seq,
    max(unit_seq) as last_seq,
    max(occurred_at) + to_seconds(max(window_seconds)) as closes_at,
    max(window_seconds) as window_seconds
from swept
where step_index = 1
group by unit_key, chain_seq;

-- The steps each chain's latest attempt reached from step 2 on, with that attempt's window.
create or replace temp table fc_chain_steps as
select unit_key, chain_seq, 2 as step_index, chain_seq as unit_seq, step_2_at as occurred_at,
    closes_at
from fc_chains
where chain_seq is not null and step_2_at <= closes_at;
