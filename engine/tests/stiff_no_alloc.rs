//! The stiff integrator must not touch the heap: a counting global allocator records every
//! allocation made by the current thread, and a whole integration must add none.
//!
//! The counter is thread-local (const-initialised, so reading it allocates nothing), which
//! keeps the test harness's own threads out of the count.
#![allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use engine::ode::{Integrator, OdeSystem};
use engine::stiff::{Rodas4, StiffSystem};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with` because the allocator may run while thread-locals are being destroyed.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Robertson's kinetics, autonomous, with an analytic Jacobian.
struct Robertson;
impl OdeSystem<3> for Robertson {
    fn rhs(&self, _t: f64, y: &[f64; 3], dy: &mut [f64; 3]) {
        let a = 0.04 * y[0];
        let b = 1e4 * y[1] * y[2];
        let c = 3e7 * y[1] * y[1];
        *dy = [-a + b, a - b - c, c];
    }
}
impl StiffSystem<3> for Robertson {
    fn jacobian(&self, _t: f64, y: &[f64; 3], j: &mut [[f64; 3]; 3]) {
        *j = [
            [-0.04, 1e4 * y[2], 1e4 * y[1]],
            [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
            [0.0, 6e7 * y[1], 0.0],
        ];
    }
    fn time_derivative(&self, _t: f64, _y: &[f64; 3], dfdt: &mut [f64; 3]) {
        *dfdt = [0.0; 3];
    }
}

/// A non-autonomous stiff system that keeps the trait's default ∂f/∂t.
struct Forced;
impl OdeSystem<2> for Forced {
    fn rhs(&self, t: f64, y: &[f64; 2], dy: &mut [f64; 2]) {
        *dy = [-1e4 * (y[0] - t.sin()) + t.cos(), y[0] - y[1]];
    }
}
impl StiffSystem<2> for Forced {
    fn jacobian(&self, _t: f64, _y: &[f64; 2], j: &mut [[f64; 2]; 2]) {
        *j = [[-1e4, 0.0], [1.0, -1.0]];
    }
}

#[test]
fn integration_allocates_nothing() {
    // The check itself must be able to fail: a Vec is seen by the counter.
    let before = allocations();
    let v: Vec<u8> = Vec::with_capacity(16);
    drop(std::hint::black_box(v));
    assert_eq!(
        allocations() - before,
        1,
        "the counting allocator is not active"
    );

    let solver = Rodas4::default();

    let before = allocations();
    let mut y = [1.0, 0.0, 0.0];
    let stats = solver
        .integrate_stiff(&Robertson, 0.0, 4e5, &mut y)
        .expect("Robertson integrates");
    let analytic = allocations() - before;

    let before = allocations();
    let mut z = [0.0, 0.0];
    let forced = solver
        .integrate_stiff(&Forced, 0.0, 20.0, &mut z)
        .expect("forced system integrates");
    let default_dfdt = allocations() - before;

    // Through the common trait: Jacobian and ∂f/∂t by finite differences.
    let before = allocations();
    let mut w = [1.0, 0.0, 0.0];
    let trait_stats = Integrator::integrate(&solver, &Robertson, 0.0, 4e5, &mut w)
        .expect("Robertson integrates through the trait");
    let finite_differences = allocations() - before;

    assert!(stats.accepted_steps > 50 && forced.accepted_steps > 10);
    assert!(trait_stats.accepted_steps > 50);
    assert_eq!(
        (analytic, default_dfdt, finite_differences),
        (0, 0, 0),
        "heap allocations during integration"
    );
}
