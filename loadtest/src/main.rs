fn main() {
    println!("satsync-loadtest: the harness arrives with the performance issue");
}
