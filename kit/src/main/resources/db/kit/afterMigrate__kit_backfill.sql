-- After every migrate: partitions ahead for every write table partitioned by
-- seq (kit.keep_partitions_ahead; when writers keep a table too busy for its brief
-- lock, a warning, and the default partition takes the facts meanwhile: the
-- migrate goes on); then backfill the read versions the migrations created
-- (state building), batch by batch, each batch its own transaction, then make
-- them live. Resumes where a killed run stopped. Runs outside a transaction
-- (see the .conf beside this file) so that the procedure can commit.
SELECT kit.keep_partitions_ahead();
CALL kit.backfill();
