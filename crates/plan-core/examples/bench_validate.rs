//! Benchmark: validate a ~1 MB plan with 2,000 slices (target: median <= 50 ms).
//!
//! `cargo run --release -p plan-core --example bench_validate [SLICES] [RUNS]`
//! Prints the document size and the median, min and max time of `validate_plan` (the XSD and
//! the application rules, as `api-actix plan validate` runs them); exits 1 over the target.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use plan_core::{
    validate_plan, Admin, Capability, Communal, Controller, Instance, Plan, PlanId, Pool, Primary,
    RegisterSlice, Secondary, Slice, Software, Subscription,
};
use uuid::Uuid;

const TARGET: Duration = Duration::from_millis(50);

fn id(n: u64) -> Uuid {
    Uuid::parse_str(&format!("3b241101-e2bb-4255-8caf-{n:012x}")).unwrap_or_default()
}

fn node(n: u64) -> (Instance, Controller) {
    let instance = Instance {
        uuid: id(n),
        software: Software {
            description: "api-actix".into(),
            version: "0.1.0".into(),
        },
        capability: Capability {
            level: Some("2".into()),
            responses: Vec::new(),
        },
    };
    let controller = Controller {
        uuid: id(n + 1),
        description: "Registers office".into(),
        admin: Admin {
            contact: Some("Ada".into()),
            email: Some("ada@example.org".into()),
        },
    };
    (instance, controller)
}

fn plan(slices: u64) -> Plan {
    let mut next = 1_000_000;
    let mut new_id = || {
        next += 1;
        id(next)
    };
    // Descriptions sized so that 2,000 slices make about a megabyte.
    let filler = "register of public records kept by the registers office ".repeat(4);
    let slices: Vec<Slice> = (0..slices)
        .map(|i| {
            let register = RegisterSlice {
                slice_uuid: id(100 + i),
                description: format!("{i}: {filler}"),
                register: format!("register-{i}"),
                index: (i % 2 == 1).then(|| format!("by-field-{i}")),
                checkpoint_key: None,
            };
            Slice::for_register(&register, &mut new_id)
        })
        .collect();
    let subscriptions = slices
        .iter()
        .step_by(2)
        .map(|s| Subscription {
            uuid: new_id(),
            slice_uuid: Some(s.uuid),
            delivery_profiles: Vec::new(),
        })
        .collect();
    let (instance, controller) = node(10);
    let primary = Primary {
        uuid: id(2),
        description: "Registers office".into(),
        instance,
        controller,
        links: None,
        pools: vec![Pool {
            uuid: id(3),
            description: "Public registers".into(),
            links: None,
            slices,
        }],
    };
    let (instance, controller) = node(20);
    let secondary = Secondary {
        uuid: id(30),
        description: "Partner".into(),
        instance,
        controller,
        links: None,
    };
    Plan {
        uuid: Some(PlanId(id(1))),
        description: "benchmark plan".into(),
        primary,
        communal: Some(Communal { subscriptions }),
        secondary: Some(secondary),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let slices = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(21);
    let xml = plan(slices).to_xml();
    let problems = validate_plan(&xml);
    if !problems.is_empty() {
        eprintln!(
            "the benchmark plan is invalid: {:?}",
            &problems[..problems.len().min(3)]
        );
        return ExitCode::FAILURE;
    }
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            let problems = validate_plan(std::hint::black_box(&xml));
            let elapsed = start.elapsed();
            assert!(problems.is_empty());
            elapsed
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "plan validate: {} bytes, {slices} slices, {runs} runs: median {:.2} ms (min {:.2}, max {:.2}); target <= {} ms",
        xml.len(),
        ms(median),
        ms(times[0]),
        ms(times[times.len() - 1]),
        TARGET.as_millis()
    );
    if median > TARGET {
        eprintln!("over target");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
