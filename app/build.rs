// `sqlx::migrate!` embeds the migration files at compile time but does not
// notice a new file by itself: rebuild when the migrations change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
