Feature: Closing the month
  A month is closed once all its revenue is split. A closed month never changes:
  nothing is imported into it, a correction of its split lands in the next open
  month, and its statements, issued once, are re-issued byte for byte.

  Background:
    Given the label "label" keeps its ledger in USD
    And these parties:
      | party        | name        | kind    | payout threshold |
      | label        | Indie Label | company |                  |
      | rust         | Rust        | person  | 50.00            |
      | hook-curator | The Curator | person  | 50.00            |
      | lic-a        | Licensor A  | company |                  |
      | lic-b        | Licensor B  | company | 25.00            |
    And the catalog has the track "QZAAA2600001" "Hook Line" by "Machine Choir", made by:
      | party        | role                   | weight |
      | rust         | producer               |        |
      | hook-curator | curator                |        |
      | lic-a        | training_data_licensor | 3      |
      | lic-b        | training_data_licensor | 1      |
      | label        | label                  |        |
    And the split sheet "hook-line" for "QZAAA2600001" from 2026-01:
      | party | role                   | share     |
      | rust  | producer               | 40%       |
      |       | curator                | 30%       |
      |       | training_data_licensor | 20%       |
      | label | label                  | remaining |
    And a distribution fee of 15% to "label" comes off the top
    And the catalog and the split sheets are loaded
    And DistroKid sends "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 100000   | 400.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
    And the finance team has imported "DistroKid_2026-10.tsv" for 2026-10

  Scenario: A month whose revenue is not split cannot be closed
    When the finance team closes 2026-10
    Then it is refused because "period 2026-10 still has 500.00 USD of revenue that was not split"
    And 2026-10 is open
    When the finance team splits 2026-10
    And the finance team closes 2026-10
    Then 2026-10 is closed

  Scenario: Nothing is imported into a closed month
    Given the finance team has split 2026-10
    And the finance team has closed 2026-10
    And TuneCore sends "TuneCore_2026-10.csv":
      | sales period | store  | country | isrc         | units | net sales | net sales currency | exchange rate | total earned |
      | 2026-10      | Deezer | GB      | QZAAA2600001 | 25000 | 80.00     | GBP                | 1.25          | 100.00       |
    When the finance team imports "TuneCore_2026-10.csv" for 2026-10
    Then it is refused because "period 2026-10 is closed"
    And the ledger is exactly as it was before

  Scenario: A late file for a closed month is booked in the next open month
    Given the finance team has split 2026-10
    And the finance team has closed 2026-10
    And TuneCore sends "TuneCore_2026-10.csv":
      | sales period | store  | country | isrc         | units | net sales | net sales currency | exchange rate | total earned |
      | 2026-10      | Deezer | GB      | QZAAA2600001 | 25000 | 80.00     | GBP                | 1.25          | 100.00       |
    When the finance team imports "TuneCore_2026-10.csv" for 2026-11
    Then import #2 holds 1 line worth 100.00 USD from "TuneCore"
    When the finance team splits 2026-11
    Then run #2 posts 100.00 USD of revenue in 2026-11 with these changes:
      | party / account | earned | fees | net   |
      | income:fees     | 15.00  | 0.00 | 15.00 |
      | income:share    | 10.00  | 1.50 | 8.50  |
      | hook-curator    | 30.00  | 4.50 | 25.50 |
      | lic-a           | 15.00  | 2.25 | 12.75 |
      | lic-b           | 5.00   | 0.75 | 4.25  |
      | rust            | 40.00  | 6.00 | 34.00 |
    And the balances of 2026-10 are:
      | party | earned | fees  | closing |
      | rust  | 200.00 | 30.00 | 170.00  |

  Scenario: Rerunning the split of a closed month posts into the next open month
    Given the finance team has split 2026-10
    And the finance team has paid 2026-10
    And the finance team has closed 2026-10
    And the split sheet "hook-line" version 2 for "QZAAA2600001" from 2026-10:
      | party | role                   | share     |
      | rust  | producer               | 45%       |
      |       | curator                | 25%       |
      |       | training_data_licensor | 20%       |
      | label | label                  | remaining |
    And a distribution fee of 15% to "label" comes off the top
    And the catalog and the split sheets are loaded
    When the finance team splits 2026-10 again
    Then run #2 adjusts run #1 in 2026-11 with these changes:
      | party / account | earned | fees  | net    |
      | hook-curator    | -25.00 | -3.75 | -21.25 |
      | rust            | 25.00  | 3.75  | 21.25  |
    And the balances of 2026-10 are:
      | party        | earned | fees  | paid   | closing |
      | hook-curator | 150.00 | 22.50 | 127.50 | 0.00    |
      | lic-a        | 75.00  | 11.25 | 63.75  | 0.00    |
      | lic-b        | 25.00  | 3.75  | 0.00   | 21.25   |
      | rust         | 200.00 | 30.00 | 170.00 | 0.00    |
    # The curator was paid in October; the correction leaves them owing 21.25.
    And the balances of 2026-11 are:
      | party        | opening | earned | fees  | closing |
      | hook-curator | 0.00    | -25.00 | -3.75 | -21.25  |
      | lic-a        | 0.00    | 0.00   | 0.00  | 0.00    |
      | lic-b        | 21.25   | 0.00   | 0.00  | 21.25   |
      | rust         | 0.00    | 25.00  | 3.75  | 21.25   |

  Scenario: The statements of a closed month are re-issued byte for byte
    Given the finance team has split 2026-10
    And the finance team has paid 2026-10
    And the finance team has closed 2026-10
    When the finance team writes the statements of 2026-10 to "first"
    And "rust" is renamed "Rust Walker" in the catalog
    And the split sheet "hook-line" version 2 for "QZAAA2600001" from 2026-10:
      | party | role                   | share     |
      | rust  | producer               | 45%       |
      |       | curator                | 25%       |
      |       | training_data_licensor | 20%       |
      | label | label                  | remaining |
    And a distribution fee of 15% to "label" comes off the top
    And the finance team loads the catalog and the split sheets
    And the finance team splits 2026-10 again
    And the finance team writes the statements of 2026-10 to "second"
    Then "first" and "second" hold the same 8 statement files, byte for byte
    And the statement of "rust" for 2026-10 in "second" is addressed to "Rust"
    And the statement of "rust" for 2026-10 in "second" has this summary:
      | figure      | amount |
      | earned      | 200.00 |
      | closing     | 170.00 |
      | payable now | 170.00 |
    When the finance team writes the statements of 2026-11 to "november"
    Then the statement of "rust" for 2026-11 in "november" is addressed to "Rust Walker"
    And the statement of "rust" for 2026-11 in "november" has this summary:
      | figure  | amount |
      | earned  | 25.00  |
      | fees    | 3.75   |
      | closing | 21.25  |
