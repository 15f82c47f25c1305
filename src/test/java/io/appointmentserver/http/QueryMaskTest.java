package io.appointmentserver.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QueryMaskTest {
  @Test
  void masksCprNumbersInIdentifierValuesOnly() {
    assertThat(QueryMask.mask("identifier=urn:oid:1.2.208.176.1.2%7C0101011234"))
        .isEqualTo("identifier=urn:oid:1.2.208.176.1.2|**********");
    assertThat(QueryMask.mask("identifier:not=010101-1234&_count=0101011234"))
        .isEqualTo("identifier:not=**********&_count=0101011234");
    assertThat(QueryMask.mask("_has:Appointment:patient:identifier=0101011234"))
        .isEqualTo("_has:Appointment:patient:identifier=**********");
    assertThat(QueryMask.mask("identifier=urn:oid:1.2.208.176.1.2%7C0101011234,x%7C2202021234%20"))
        .isEqualTo("identifier=urn:oid:1.2.208.176.1.2|**********,x|**********%20");
    // not a CPR number: fewer or more digits
    assertThat(QueryMask.mask("identifier=123456789&x=1")).isEqualTo("identifier=123456789&x=1");
    assertThat(QueryMask.mask("identifier=01010112345")).isEqualTo("identifier=01010112345");
    assertThat(QueryMask.mask("name=Hansen")).isEqualTo("name=Hansen");
    assertThat(QueryMask.mask(null)).isNull();
    assertThat(QueryMask.mask("identifier=%ZZ0101011234")).isEqualTo("identifier=%25ZZ**********");
  }
}
