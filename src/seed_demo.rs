//! `caly seed-demo --calls 1000000 [--tenant N]`: bulk-loads a large, realistic tenant (calls
//! over the past year with their turns, charges, adjustments, handoffs to a team and tasks)
//! straight into the database, without driving the pipeline, then builds its rollups. Without
//! `--tenant` it makes a new tenant with a four-person team.

use caly_core::analytics::seed::{SeedPlan, seed};
use caly_core::analytics::settle::rebuild;
use caly_core::platform::pools::ProcessRole;
use caly_core::platform::settings::Settings;
use caly_core::tenancy::{self, NewTenant};
use caly_core::{App, TenantId};
use caly_entities::{membership, team, team_member, tenant, user};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::time::Instant;

/// `caly seed-demo` arguments.
#[derive(clap::Args)]
pub struct SeedDemoArgs {
    /// How many calls.
    #[arg(long, default_value_t = 100_000)]
    calls: u64,
    /// Fill this tenant (its members' phone numbers take the handoffs); a new one by default.
    /// It should not be taking calls meanwhile: the rollups are rebuilt for a quiet tenant.
    #[arg(long)]
    tenant: Option<i64>,
    /// Spread the calls over this many days up to today.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Random seed: the same arguments make the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The team a new seeded tenant gets: name and phone.
const TEAM: [(&str, &str); 4] = [
    ("Asha Rao", "+919800000101"),
    ("Vikram Singh", "+919800000102"),
    ("Meera Iyer", "+919800000103"),
    ("Kabir Khan", "+919800000104"),
];

/// Makes a tenant with a support team of four (no passwords: they cannot sign in).
async fn new_tenant(app: &App, seed: u64) -> anyhow::Result<TenantId> {
    let now = Utc::now();
    let created = tenancy::create(
        &app.db,
        &app.key,
        NewTenant {
            name: format!("Seeded store {}", now.format("%Y-%m-%d %H:%M")),
            exotel_sid: "seeded".into(),
            exotel_key: "seeded-key".to_string().into(),
            exotel_token: "seeded-token".to_string().into(),
            exotel_subdomain: "api.in.exotel.com".into(),
            rate_paise_per_min: 3000,
        },
        now,
    )
    .await?;
    let tenant = created.tenant.id;
    let support = team::Entity::insert(team::ActiveModel {
        tenant_id: Set(tenant),
        name: Set("Support".into()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&app.db)
    .await?
    .last_insert_id;
    for (name, phone) in TEAM {
        let first = name.split(' ').next().unwrap_or(name).to_lowercase();
        let id = user::Entity::insert(user::ActiveModel {
            email: Set(format!("{first}.{tenant}.{seed}@seeded.caly.local")),
            name: Set(name.into()),
            phone: Set(Some(phone.into())),
            notifications: Set("{}".into()),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(&app.db)
        .await?
        .last_insert_id;
        membership::Entity::insert(membership::ActiveModel {
            tenant_id: Set(tenant),
            user_id: Set(id),
            role: Set("agent".into()),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(&app.db)
        .await?;
        team_member::Entity::insert(team_member::ActiveModel {
            tenant_id: Set(tenant),
            team_id: Set(support),
            user_id: Set(id),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(&app.db)
        .await?;
    }
    Ok(TenantId(tenant))
}

/// The members' phone numbers and user ids.
async fn team_of(app: &App, tenant: TenantId) -> anyhow::Result<(Vec<String>, Vec<i64>)> {
    let ids: Vec<i64> = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tenant.0))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .all(&app.db)
        .await?;
    Ok((users.into_iter().filter_map(|u| u.phone).collect(), ids))
}

/// Runs `caly seed-demo`.
pub async fn run(args: SeedDemoArgs) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let migrate = settings.is_sqlite();
    let app = App::connect(settings, migrate, ProcessRole::Command).await?;
    let tenant = match args.tenant {
        Some(id) => {
            tenant::Entity::find_by_id(id)
                .one(&app.db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no tenant {id}"))?;
            TenantId(id)
        }
        None => new_tenant(&app, args.seed).await?,
    };
    let rate = caly_core::billing::rates::rate_history(&app.db, tenant).await?;
    let (handoff_numbers, staff) = team_of(&app, tenant).await?;
    let plan = SeedPlan {
        tenant,
        calls: args.calls,
        days: args.days.max(1),
        rate_paise_per_min: caly_core::billing::rate_at(&rate, Utc::now()),
        handoff_numbers,
        staff,
        seed: args.seed,
    };
    println!(
        "seeding {} calls over {} days into tenant {}",
        plan.calls, plan.days, tenant.0
    );
    let started = Instant::now();
    let step = (args.calls / 10).max(1);
    let seeded = seed(&app.db, &plan, Utc::now(), |n| {
        if n % step == 0 || n == args.calls {
            println!(
                "  {n} calls inserted ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    })
    .await?;
    let inserted = started.elapsed().as_secs_f64();
    // Fresh planner statistics after a bulk load, before the rollups read it day by day.
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        app.db
            .execute_unprepared("ANALYZE calls, turns, ledger_entries, tasks")
            .await?;
    }
    let days = rebuild(&app.db, tenant, Utc::now()).await?;
    // The change notes the inserts left are gone: reclaim their space now rather than at
    // autovacuum's leisure, so the next page's check for notes is an index probe.
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        app.db
            .execute_unprepared("VACUUM ANALYZE rollup_changes")
            .await?;
    }
    println!(
        "seeded tenant {}: {} calls, {} turns, {} ledger entries, {} tasks in {inserted:.1} s; rollups of {days} days built; {:.1} s in all",
        tenant.0,
        seeded.calls,
        seeded.turns,
        seeded.ledger_entries,
        seeded.tasks,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
