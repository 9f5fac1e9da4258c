-- After every migrate: partitions ahead for every write table partitioned by
-- seq (kit.add_partitions); then backfill the read versions the migrations created
-- (state building), batch by batch, each batch its own transaction, then make
-- them live. Resumes where a killed run stopped. Runs outside a transaction
-- (see the .conf beside this file) so that the procedure can commit.
DO $$BEGIN PERFORM kit.add_partitions(); END$$;
CALL kit.backfill();
