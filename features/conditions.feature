Feature: Conditions and priorities choose the split sheet for a line
  A narrower rule (a country, a store, a kind of use, some months) overrides
  the standard split sheet when it has a higher priority.

  Background:
    Given the label "rust-label" with these contributions to "USRW12600001":
      | party        | role     | weight |
      | hook-curator | curator  |        |
      | rust         | producer |        |
    And the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role     | share     |
      | hook-curator | curator  | 20%       |
      | rust         | producer | 30%       |
      | rust-label   | label    | remaining |

  Scenario: A rule for the UK overrides the standard split
    Given a rule "uk" with priority 10 for lines where territory is "GB", with the split sheet:
      | party        | role     | share     |
      | hook-curator | curator  | 40%       |
      | rust-label   | label    | remaining |
    When a line of 100.00 USD for "USRW12600001" from "Spotify" in "GB" as "stream" in 2026-10 is split
    Then the rule "walk-my-walk@v1#uk" applies
    And "hook-curator" gets 40.00
    When a line of 100.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the rule "walk-my-walk@v1#standard" applies
    And "hook-curator" gets 20.00

  Scenario Outline: A rule for the EU covers every member country and nothing else
    Given a rule "eu" with priority 10 for lines where territory is "EU", with the split sheet:
      | party      | role  | share |
      | rust-label | label | 100%  |
    When a line of 100.00 USD for "USRW12600001" from "Spotify" in "<country>" as "stream" in 2026-10 is split
    Then the rule "<rule>" applies

    Examples:
      | country | rule                     |
      | DE      | walk-my-walk@v1#eu       |
      | FR      | walk-my-walk@v1#eu       |
      | CH      | walk-my-walk@v1#standard |
      | US      | walk-my-walk@v1#standard |

  Scenario: Short-video clips on one store have their own split
    Given a rule "tiktok" with priority 20 for lines where source is "TikTok", with the split sheet:
      | party        | role     | share |
      | hook-curator | curator  | 50%   |
      | rust         | producer | 50%   |
    When a line of 10.00 USD for "USRW12600001" from "tiktok" in "US" as "ugc" in 2026-10 is split
    Then the rule "walk-my-walk@v1#tiktok" applies
    And "rust" gets 5.00

  Scenario: A launch bonus applies only in its months
    Given a rule "launch" with priority 10 for lines where period is "2026-10", with the split sheet:
      | party        | role     | share |
      | rust         | producer | 100%  |
    When a line of 10.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then "rust" gets 10.00
    When a line of 10.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-11 is split
    Then "rust" gets 3.00

  Scenario: A line no agreement covers goes to suspense
    When a line of 10.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-09 is split
    Then it cannot be split because "no agreement in force covers the track"
    When a line of 10.00 USD for "QZK6H2600014" from "Spotify" in "GB" as "stream" in 2026-10 is split
    Then it cannot be split because "the track is not in the catalog"
