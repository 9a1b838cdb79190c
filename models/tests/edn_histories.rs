//! Hand-written Jepsen EDN histories with verdicts derived by hand.

use models::check::{check, CheckOptions, Model, Verdict};
use models::op::Value;
use models::parse::{parse_str, Format};

fn lin(edn: &str, init: Value) -> Verdict {
    let p = parse_str(Format::Edn, "inline.edn", edn).unwrap_or_else(|e| panic!("{e}"));
    let opts = CheckOptions {
        init,
        ..CheckOptions::default()
    };
    check(Model::Linearizable, &p.history, &[], &opts)
}

#[test]
fn info_write_must_apply_to_explain_a_read() {
    // The write of 1 times out, yet a later read sees 1: valid only if the write took effect.
    let h = "[{:process 0 :type :invoke :f :write :value 1}
              {:process 0 :type :info :f :write :value 1 :error :timeout}
              {:process 1 :type :invoke :f :read :value nil}
              {:process 1 :type :ok :f :read :value 1}]";
    assert!(lin(h, Value::Int(0)).is_valid());
}

#[test]
fn failed_write_cannot_explain_a_read() {
    // Same, but :fail means it did not happen: 1 comes from nowhere.
    let h = "[{:process 0 :type :invoke :f :write :value 1}
              {:process 0 :type :fail :f :write :value 1}
              {:process 1 :type :invoke :f :read :value nil}
              {:process 1 :type :ok :f :read :value 1}]";
    assert!(lin(h, Value::Int(0)).is_invalid());
}

#[test]
fn info_acquire_must_be_skipped() {
    // p0's acquire is indeterminate; p1 then acquires and never releases. If p0's acquire took
    // effect anywhere (before p1's: p1 could not acquire; after: the lock is held), the history
    // would be illegal: valid only because the :info acquire may never happen.
    let h = "; mutex
             [{:process 0 :type :invoke :f :acquire}
              {:process 0 :type :info :f :acquire}
              {:process 1 :type :invoke :f :acquire}
              {:process 1 :type :ok :f :acquire}
              {:process :nemesis :type :info :f :start :value nil}]";
    assert!(lin(h, Value::Nil).is_valid());
    // An :ok acquire in the same place is a double acquire.
    let bad = h.replace(":type :info :f :acquire}", ":type :ok :f :acquire}");
    assert!(lin(&bad, Value::Nil).is_invalid());
}

#[test]
fn mutex_release_then_acquire() {
    let h = "[{:process 0 :type :invoke :f :acquire} {:process 0 :type :ok :f :acquire}
              {:process 0 :type :invoke :f :release} {:process 0 :type :ok :f :release}
              {:process 1 :type :invoke :f :acquire} {:process 1 :type :ok :f :acquire}]";
    assert!(lin(h, Value::Nil).is_valid());
    let h = "[{:process 0 :type :invoke :f :release} {:process 0 :type :ok :f :release}]";
    assert!(lin(h, Value::Nil).is_invalid());
}

#[test]
fn nil_reads_are_always_legal() {
    // Knossos: an :ok read of nil constrains nothing, even right after a write of 1.
    let h = "[{:process 0 :type :invoke :f :write :value 1} {:process 0 :type :ok :f :write :value 1}
              {:process 1 :type :invoke :f :read :value nil} {:process 1 :type :ok :f :read :value nil}]";
    assert!(lin(h, Value::Int(0)).is_valid());
    // But a read of the old value 0 is stale.
    let h = h.replace(":ok :f :read :value nil", ":ok :f :read :value 0");
    assert!(lin(&h, Value::Int(0)).is_invalid());
}

#[test]
fn cas_register() {
    // init 0: cas 0->1 ok, read 1, then another cas 0->2 ok is impossible.
    let h = "[{:process 0 :type :invoke :f :cas :value [0 1]} {:process 0 :type :ok :f :cas :value [0 1]}
              {:process 1 :type :invoke :f :read :value nil} {:process 1 :type :ok :f :read :value 1}
              {:process 2 :type :invoke :f :cas :value [0 2]} {:process 2 :type :ok :f :cas :value [0 2]}]";
    assert!(lin(h, Value::Int(0)).is_invalid());
    // A failed cas did not happen: dropping it leaves a valid history.
    let h2 = h.replace(":ok :f :cas :value [0 2]", ":fail :f :cas :value [0 2]");
    assert!(lin(&h2, Value::Int(0)).is_valid());
    // With init nil the first cas cannot succeed.
    assert!(lin(&h2, Value::Nil).is_invalid());
}

#[test]
fn multi_register_txns_are_atomic() {
    let w = "{:process 0 :type :invoke :f :txn :value [[:write 1 1] [:write 2 2]]}";
    let w_ok = "{:process 0 :type :ok :f :txn :value [[:write 1 1] [:write 2 2]]}";
    let r = "{:process 1 :type :invoke :f :txn :value [[:read 1 nil] [:read 2 nil]]}";
    // A read concurrent with the write may see all of it or none of it...
    let all = format!(
        "[{w} {r} {{:process 1 :type :ok :f :txn :value [[:read 1 1] [:read 2 2]]}} {w_ok}]"
    );
    assert!(lin(&all, Value::Int(0)).is_valid());
    let none = format!(
        "[{w} {r} {{:process 1 :type :ok :f :txn :value [[:read 1 0] [:read 2 0]]}} {w_ok}]"
    );
    assert!(lin(&none, Value::Int(0)).is_valid());
    // ...but never half of it, even though each key alone would be linearizable.
    let torn = format!(
        "[{w} {r} {{:process 1 :type :ok :f :txn :value [[:read 1 1] [:read 2 0]]}} {w_ok}]"
    );
    assert!(lin(&torn, Value::Int(0)).is_invalid());
}

#[test]
fn malformed_edn_names_file_and_line() {
    let e = parse_str(Format::Edn, "h.edn", "[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok :f :write :value [1]}]")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("h.edn:2: expected"), "{e}");
}
