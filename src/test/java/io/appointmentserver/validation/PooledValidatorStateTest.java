package io.appointmentserver.validation;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

/**
 * The InstanceValidator fields a pooled validator has cleared after each use are found in the
 * HAPI version on the class path: should an upgrade rename one, what it holds would be kept per
 * resource validated (ValidationMemoryTest shows the heap then; this says which field).
 */
class PooledValidatorStateTest {
  @Test
  void everyFieldClearedAfterEachValidationExistsInThisHapiVersion() {
    assertThat(ValidatorPool.PER_VALIDATION.stream().map(Field::getName))
        .containsExactlyInAnyOrder("resourceTracker", "fetchCache", "xhtmlElementMap", "crLookups", "textsToCheck",
            "textsToCheckKeys", "trackedMessages", "messagesToRemove", "statusWarnings");
    // the long renewal interval, which holds only when every Element-holding field is cleared
    assertThat(ValidatorPool.CHARS_PER_VALIDATOR).isEqualTo(2_000_000);
  }
}
