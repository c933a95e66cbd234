//! Hand-computed participatory-budgeting counts (ties included) and the `.pb` reader/writer.

use num_bigint::BigInt;
use num_rational::BigRational;

use super::pabulib;
use super::pb::{Ballots, Election, Project, Rule};

fn r(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn approval(budget: i64, projects: &[(&str, i64)], ballots: &[&[&str]]) -> Election {
    let ix = |id: &str| projects.iter().position(|p| p.0 == id).unwrap();
    Election {
        budget: r(budget),
        projects: projects
            .iter()
            .map(|(id, c)| Project {
                id: id.to_string(),
                cost: r(*c),
            })
            .collect(),
        kind: Ballots::Approval,
        ballots: ballots
            .iter()
            .map(|b| b.iter().map(|p| (ix(p), r(1))).collect())
            .collect(),
    }
}

fn funded(e: &Election, rule: Rule) -> Vec<String> {
    e.count(rule).unwrap().funded
}

/// Budget 10; A 6, B 4, C 5, D 3; ballots {A,B} {A,B} {A,C} {C,D} {D}.
fn five_voters() -> Election {
    approval(
        10,
        &[("A", 6), ("B", 4), ("C", 5), ("D", 3)],
        &[&["A", "B"], &["A", "B"], &["A", "C"], &["C", "D"], &["D"]],
    )
}

#[test]
fn greedy_funds_in_order_of_votes_and_skips_what_does_not_fit() {
    // Votes A 3, B 2, C 2, D 2 (ties by id): A (6, 4 left), B (4, 0 left), C and D skipped.
    let o = five_voters().count(Rule::Greedy).unwrap();
    assert_eq!(o.funded, ["A", "B"]);
    assert_eq!(o.spent, "10");
    let c = o.projects.iter().find(|p| p.id == "C").unwrap();
    assert_eq!(
        c.explanation.en,
        "Ranked 3 by votes (2 votes); its cost 5 exceeded the 0 left, so it was skipped."
    );
    assert!(c.explanation.zh.contains("超过剩余预算0"));
}

#[test]
fn equal_shares_with_cost_utilities() {
    // 2 per voter. Round 1: A's 3 supporters pay 2 each (1/3 per unit of cost), better than B
    // and D (1/2); C's supporters have 4 < 5. Round 2: B's supporters have nothing left; D's pay
    // 1.5 each. C is looked at only in round 2 (its price per unit could not beat A's), when its
    // supporters have 0 + 2 left.
    let o = five_voters().count(Rule::Mes).unwrap();
    assert_eq!(o.order, ["A", "D"]);
    let c = o.projects.iter().find(|p| p.id == "C").unwrap();
    assert_eq!(
        c.explanation.en,
        "Its supporters had 2 left of the 5 it costs, so it was not funded."
    );
    assert_eq!(c.explanation.zh, "其支持者只剩2，不够支付造价5，未获资助。");
    let d = o.projects.iter().find(|p| p.id == "D").unwrap();
    assert!(
        d.explanation.en.contains("none paying more than 1.50"),
        "{}",
        d.explanation.en
    );
    // A and D cost 9; B or C would not fit in the 1 left: exhaustive, so add-one changes nothing.
    assert_eq!(funded(&five_voters(), Rule::MesAdd1), ["A", "D"]);
}

#[test]
fn phragmen_breaks_a_tie_by_id_and_stops_at_the_first_that_does_not_fit() {
    // Loads: D 1.5 first; then A and B tie at 2 → A; then B would take load 4 but 9 + 4 > 10.
    let o = five_voters().count(Rule::Phragmen).unwrap();
    assert_eq!(o.order, ["D", "A"]);
    let b = o.projects.iter().find(|p| p.id == "B").unwrap();
    assert!(b.explanation.en.contains("ended the count"), "{}", b.explanation.en);
}

#[test]
fn ties_go_to_the_first_id_under_every_rule() {
    // "b" and "a" cost 4 each, both voters approve both, budget 6: only one fits.
    let e = approval(6, &[("b", 4), ("a", 4)], &[&["a", "b"], &["a", "b"]]);
    for rule in Rule::ALL {
        assert_eq!(funded(&e, rule), ["a"], "{rule}");
    }
    // Code-point order: "10" comes before "2".
    let e = approval(5, &[("2", 5), ("10", 5)], &[&["2"], &["10"]]);
    assert_eq!(funded(&e, Rule::Greedy), ["10"]);
    assert_eq!(funded(&e, Rule::Phragmen), ["10"]);
    // MES: 2.5 each buys neither. Add-one: at 3.5 and 4.5 still nothing; at 5.5 both become
    // affordable at the same price ("10" first) and together overspend, so the outcome at 4.5
    // (nothing) stands.
    assert!(funded(&e, Rule::Mes).is_empty());
    assert!(funded(&e, Rule::MesAdd1).is_empty());
}

#[test]
fn add_one_completion_spends_what_plain_equal_shares_leaves() {
    // Budget 10, two voters (5 each): A (6) only by v1, B (4) only by v2. Plain MES buys B only;
    // at 6 each both are affordable (tie, A first) and together cost exactly 10.
    let e = approval(10, &[("A", 6), ("B", 4)], &[&["A"], &["B"]]);
    assert_eq!(funded(&e, Rule::Mes), ["B"]);
    let o = e.count(Rule::MesAdd1).unwrap();
    assert_eq!(o.funded, ["A", "B"]);
    assert!(o.projects[0].explanation.en.contains("raised from 5 to 6"));
}

#[test]
fn cumulative_ballots_count_points() {
    // Budget 10; A 6, B 4, C 5; v1 {A:3, B:1}, v2 {C:4}, v3 {B:2, C:2}.
    let e = Election {
        budget: r(10),
        projects: [("A", 6), ("B", 4), ("C", 5)]
            .iter()
            .map(|(id, c)| Project {
                id: id.to_string(),
                cost: r(*c),
            })
            .collect(),
        kind: Ballots::Cumulative,
        ballots: vec![vec![(0, r(3)), (1, r(1))], vec![(2, r(4))], vec![(1, r(2)), (2, r(2))]],
    };
    // Greedy by points: C 6 (5 left), then A and B tie at 3 → A (6 > 5, skipped), B (4).
    assert_eq!(funded(&e, Rule::Greedy), ["B", "C"]);
    // MES with points as utilities: 10/3 each; C at 5/6 per point, then B at 7/3; A's only
    // supporter has 3.33 < 6.
    let o = e.count(Rule::Mes).unwrap();
    assert_eq!(o.order, ["C", "B"]);
    assert_eq!(
        o.projects[0].explanation.en,
        "Its supporters had 3.33 left of the 6 it costs, so it was not funded."
    );
    assert!(e
        .count(Rule::Phragmen)
        .unwrap_err()
        .to_string()
        .contains("approval ballots only"));
}

#[test]
fn projects_nobody_voted_for() {
    // Greedy and Phragmén fund an unvoted project if money is left (as CONSUL and pabutools);
    // MES never does.
    let e = approval(10, &[("A", 3), ("Z", 2)], &[&["A"]]);
    assert_eq!(funded(&e, Rule::Greedy), ["A", "Z"]);
    assert_eq!(funded(&e, Rule::Phragmen), ["A", "Z"]);
    let o = e.count(Rule::Mes).unwrap();
    assert_eq!(o.funded, ["A"]);
    assert_eq!(
        o.projects[1].explanation.en,
        "Nobody voted for it, so it was not funded."
    );
}

const SAMPLE: &str = "META\nkey;value\ndescription;\"Test; with a semicolon\"\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost;name\nA;6;\"Park \"\"Green\"\"\"\nB;4;None\nC;5;Road\nD;3;Lights\nVOTES\nvoter_id;vote;age\n1;A,B;30\n2;A,B;None\n3;A,C;41\n4;C,D;52\n5;D;18\n";

#[test]
fn pabulib_parses_counts_and_round_trips() {
    let f = pabulib::parse(SAMPLE).unwrap();
    assert_eq!(f.projects.len(), 4);
    assert_eq!(f.projects[0].extra, [Some("Park \"Green\"".to_string())]);
    assert_eq!(f.projects[1].extra, [None]);
    assert_eq!(f.meta[0].1, "Test; with a semicolon");
    let e = f.election().unwrap();
    assert_eq!(e, five_voters());
    let again = pabulib::parse(&pabulib::write(&f)).unwrap();
    assert_eq!(again.projects, f.projects);
    assert_eq!(again.votes, f.votes);
    assert_eq!(again.election().unwrap(), e);
    // Cumulative with decimal costs and points.
    let cum = "META\nkey;value\nbudget;10,5\nvote_type;cumulative\nPROJECTS\nproject_id;cost\nA;6.25\nB;4\nVOTES\nvoter_id;vote;points\n1;A,B;2,1.5\n";
    let f = pabulib::parse(cum).unwrap();
    assert_eq!(f.budget, BigRational::new(BigInt::from(21), BigInt::from(2)));
    let back = pabulib::parse(&pabulib::write(&f)).unwrap();
    assert_eq!(back.election().unwrap(), f.election().unwrap());
    assert!(pabulib::write(&f).contains("A;6.25"));
}

#[test]
fn pabulib_refuses_bad_files_with_line_numbers() {
    let cases = [
        (SAMPLE.replace("5;D;18", "5;E;18"), 18, "not in PROJECTS"),
        (
            SAMPLE.replace("C;5;Road", "C;five;Road"),
            10,
            "not a non-negative number",
        ),
        (
            SAMPLE.replace("5;D;18", "4;D;18"),
            18,
            "voted twice: same voter as line",
        ),
        (SAMPLE.replace("3;A,C;41", "3;A,A;41"), 16, "twice"),
        (SAMPLE.replace("budget;10\n", ""), 2, "no budget"),
        (
            SAMPLE.replace("vote_type;approval", "vote_type;ranked"),
            2,
            "unknown vote_type",
        ),
        (SAMPLE.replace("B;4;None", "A;4;None"), 9, "already defined on line 8"),
        (
            SAMPLE.replace("4;C,D;52", "4;C,D"),
            17,
            "2 fields where the header has 3",
        ),
        (
            SAMPLE.replace("voter_id;vote;age", "voter;vote;age"),
            13,
            "needs the columns voter_id, vote",
        ),
        (
            SAMPLE.replace("VOTES\n", "VOTERS\n"),
            12,
            "1 fields where the header has 3",
        ),
    ];
    for (text, line, what) in cases {
        let e = pabulib::parse(&text).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains(what), "{e}");
    }
    let no_votes = &SAMPLE[..SAMPLE.find("VOTES").unwrap()];
    assert!(pabulib::parse(no_votes)
        .unwrap_err()
        .message
        .contains("no VOTES section"));
    let cum = "META\nkey;value\nbudget;10\nvote_type;cumulative\nPROJECTS\nproject_id;cost\nA;6\nVOTES\nvoter_id;vote;points\n1;A;2,1\n";
    assert!(pabulib::parse(cum)
        .unwrap_err()
        .to_string()
        .starts_with("line 10: voter \"1\": 1 projects but 2 points"));
}

#[test]
fn pabulib_finds_columns_by_name() {
    // Real files put vote after other columns (Łódź: voter_id;age;sex;voting_method;vote).
    let text = "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;name;cost\nA;Park;6\nB;Road;4\nVOTES\nvoter_id;age;vote\n1;30;A,B\n2;None;B\n";
    let f = pabulib::parse(text).unwrap();
    assert_eq!(f.projects[0].cost, r(6));
    assert_eq!(f.project_columns, ["name"]);
    assert_eq!(f.votes[1].vote, ["B"]);
    assert_eq!(f.votes[0].extra, [Some("30".to_string())]);
    let mut back = pabulib::parse(&pabulib::write(&f)).unwrap();
    // Writing adds num_projects and num_votes to META; all else comes back as it was.
    back.meta.retain(|(k, _)| !k.starts_with("num_"));
    assert_eq!(back, f);
}
