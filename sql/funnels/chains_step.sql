-- Attempts of plain ordered funnels, step $step: each chain at step $step - 1 takes the
-- earliest step-$step event after its step-$step - 1 event, if its latest attempt's window
-- covers it. Chains often meet (one event follows several), so the sweep runs over their
-- distinct positions and the step's events of the same units. Returns how many advanced.
create or replace temp table fc_next as
with positions as (
    select distinct unit_key, unit_seq
    from fc_chain_steps
    where step_index = $step - 1
),

merged as (
    select unit_key, unit_seq, cast(null as timestamp) as occurred_at, 0 as is_step
    from positions
    union all
    select s.unit_key, s.unit_seq, s.occurred_at, 1
    from fa_step_events as s
    where s.step_index = $step and s.unit_key in (select p.unit_key from positions as p)
),

swept as (
    select
        *,
        min(case when is_step = 1 then unit_seq end) over ahead as next_seq,
        min(case when is_step = 1 then occurred_at end) over ahead as next_at
    from merged
    window ahead as (
        partition by unit_key
        order by unit_seq, is_step desc
        rows between current row and unbounded following
    )
)

select unit_key, unit_seq as from_seq, next_seq, next_at
from swept
where is_step = 0 and next_seq is not null;

insert into fc_chain_steps
select p.unit_key, p.chain_seq, $step, n.next_seq, n.next_at, p.closes_at
from fc_chain_steps as p
inner join fc_next as n on n.unit_key = p.unit_key and n.from_seq = p.unit_seq
where p.step_index = $step - 1 and n.next_at <= p.closes_at;

select count(*) from fc_chain_steps where step_index = $step;
