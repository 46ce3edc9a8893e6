//! `from_env` builds the function from what its `NEEDS` declare and nothing
//! else: `Adapters::given_to` refuses any adapter or variable left out of them.

#[test]
fn from_env_builds_the_function_from_its_declared_needs_alone() {
    // SAFETY: this test binary holds this one test, and nothing else in it
    // reads or writes the environment while the variables are set.
    unsafe {
        aws_adapters::fixtures::assert_builds_from_its_needs(
            &notice_sender::NEEDS,
            notice_sender::from_env,
        );
    }
}
