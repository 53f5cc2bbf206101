//! Property tests of cooking.

use super::*;
use proptest::prelude::*;

/// A formula of `n` steps declared in a shuffled order, with `edges` (a needs b).
fn graph_formula(n: usize, edges: &[(usize, usize)], seed: u64) -> String {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed | 1;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    let mut text = String::from("formula = \"g\"\n");
    for &i in &order {
        let needs: Vec<String> = edges
            .iter()
            .filter(|(a, b)| *a % n == i && *b % n != i)
            .map(|(_, b)| format!("\"s{}\"", b % n))
            .collect();
        text.push_str(&format!(
            "[[steps]]\nid = \"s{i}\"\ntitle = \"S{i}\"\nneeds = [{}]\n",
            needs.join(", ")
        ));
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Either the graph cooks into a topological order of all its steps, or the error
    /// names a cycle whose every hop is a real `needs` edge.
    #[test]
    fn cooked_order_is_topological_or_the_cycle_is_real(
        n in 1usize..30,
        edges in proptest::collection::vec((0usize..30, 0usize..30), 0..60),
        seed in any::<u64>(),
    ) {
        let text = graph_formula(n, &edges, seed);
        let has_edge = |a: &str, b: &str| {
            edges.iter().any(|(x, y)| format!("s{}", x % n) == a && format!("s{}", y % n) == b)
        };
        match cook_with(&text, &none(), &[]) {
            Ok(c) => {
                prop_assert_eq!(c.steps.len(), n);
                let mut seen = std::collections::HashSet::new();
                for s in &c.steps {
                    for need in &s.needs {
                        prop_assert!(seen.contains(need), "{} before its need {}", s.id, need);
                    }
                    seen.insert(s.id.clone());
                }
            }
            Err(e) => {
                let msg = e.to_string();
                let cycle = msg.split("needs cycle: ").nth(1).expect("a cycle error");
                let hops: Vec<&str> = cycle.split(" -> ").collect();
                prop_assert!(hops.len() >= 2);
                prop_assert_eq!(hops.first(), hops.last());
                for pair in hops.windows(2) {
                    prop_assert!(has_edge(pair[0], pair[1]), "{} -> {} is not an edge", pair[0], pair[1]);
                }
            }
        }
    }
}
