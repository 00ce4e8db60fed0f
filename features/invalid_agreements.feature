Feature: Invalid agreements are refused with a message that says where and why
  Nothing is loaded from a file with a problem; every problem names the file,
  the line and the key.

  Background:
    Given the label "rust-label" with these contributions to "USRW12600001":
      | party        | role     | weight |
      | hook-curator | curator  |        |
      | rust         | producer |        |

  Scenario: Shares that do not add up to 100 %
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role     | share |
      | hook-curator | curator  | 20%   |
      | rust         | producer | 30%   |
    When the finance team checks the agreement
    Then it is refused at "shares" with "shares sum to 50%, not 100%"

  Scenario: Two shares marked "remaining"
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role     | share     |
      | hook-curator | curator  | remaining |
      | rust         | producer | remaining |
    When the finance team checks the agreement
    Then it is refused at "shares" with "more than one share is 'remaining'"

  Scenario: A party the catalog does not know
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role     | share |
      | hook-curator | curator  | 50%   |
      | dj-unknown   | producer | 50%   |
    When the finance team checks the agreement
    Then it is refused at "party" with "party 'dj-unknown' is not in the catalog"

  Scenario: A track the catalog does not know
    Given the agreement "walk-my-walk" for "USRW12600099" from 2026-10 with the split sheet:
      | party | role     | share |
      | rust  | producer | 100%  |
    When the finance team checks the agreement
    Then it is refused at "scope.tracks" with "track USRW12600099 is not in the catalog"

  Scenario: A country that does not exist
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party | role     | share |
      | rust  | producer | 100%  |
    And a rule "atlantis" with priority 10 for lines where territory is "XX", with the split sheet:
      | party | role     | share |
      | rust  | producer | 100%  |
    When the finance team checks the agreement
    Then it is refused at "territory" with "'XX' is not an ISO 3166 country code"

  Scenario: A usage type that does not exist
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party | role     | share |
      | rust  | producer | 100%  |
    And a rule "vinyl" with priority 10 for lines where usage is "vinyl", with the split sheet:
      | party | role     | share |
      | rust  | producer | 100%  |
    When the finance team checks the agreement
    Then it is refused at "usage" with "'vinyl' is not a usage type"

  Scenario: A currency that does not exist
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party | role     | share |
      | rust  | producer | 100%  |
    And a fee "licence" of 0.0001 XYZ per stream to "rust"
    When the finance team checks the agreement
    Then it is refused at "currency" with "currency 'XYZ' is not an ISO 4217 code"

  Scenario: Two rules of the same priority that could match the same line
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party | role     | share |
      | rust  | producer | 100%  |
    And a rule "streams" with priority 0 for lines where usage is "stream", with the split sheet:
      | party        | role    | share |
      | hook-curator | curator | 100%  |
    When the finance team checks the agreement
    Then it is refused at "priority" with "have the same priority (0) and could match the same line"
