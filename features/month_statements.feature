Feature: Statement figures a rights-holder can check
  Each holder gets a statement per month. Its summary is the sum of what it lists:
  the lines and adjustments make up what was earned, the fee, recoupment and payment
  rows make up the fees, recouped and paid figures, and the closing balance is the
  opening balance plus earned, less fees, recouped and paid. What is paid at the
  month's end is "payable now"; the rest is carried forward, with the reason.

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
    And "rust" has an advance of 100.00 USD to recoup
    And the catalog and the split sheets are loaded
    # October's export carries a correction of September's Spotify streams: -10.00.
    And DistroKid sends "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 100000   | 400.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
      | 2026-09    | Spotify     | QZAAA2600001 | US      | -2500    | -10.00   |
    And the finance team has imported "DistroKid_2026-10.tsv" for 2026-10
    And the finance team has split 2026-10

  Scenario: The producer's statement adds up
    # Rust earns 40% of 490.00 = 196.00: 160.00 + 40.00 on the lines, -4.00 for September.
    # Fees: 15% of that, 29.40. The 100.00 advance is recouped first, so 66.60 is paid now.
    Given the finance team has paid 2026-10
    When the finance team writes the statements of 2026-10
    Then the statement of "rust" for 2026-10 has this summary:
      | figure          | amount |
      | opening         | 0.00   |
      | earned          | 196.00 |
      | fees            | 29.40  |
      | recouped        | 100.00 |
      | paid            | 0.00   |
      | closing         | 66.60  |
      | payable now     | 66.60  |
      | carried forward | 0.00   |
    And its lines are:
      | isrc         | source      | territory | usage  | quantity | share | amount |
      | QZAAA2600001 | Apple Music | US        | stream | 10000    | 2/5   | 40.00  |
      | QZAAA2600001 | Spotify     | US        | stream | 100000   | 2/5   | 160.00 |
    And its adjustment rows are:
      | kind       | amount |
      | correction | -4.00  |
    And its fee rows are:
      | kind | amount |
      | fees | 30.00  |
      | fees | -0.60  |
    And its recoupment rows are:
      | kind       | amount |
      | recoupment | 100.00 |
    And its figures add up to its lines, adjustments, fees, recoupments and payments
    And its closing balance is opening + earned - fees - recouped - paid
    And its closing balance is what is payable now plus what is carried forward

  Scenario Outline: Every holder's statement adds up
    Given the finance team has paid 2026-10
    When the finance team writes the statements of 2026-10
    Then the statement of "<party>" for 2026-10 has this summary:
      | figure          | amount            |
      | earned          | <earned>          |
      | fees            | <fees>            |
      | recouped        | <recouped>        |
      | closing         | <closing>         |
      | payable now     | <payable now>     |
      | carried forward | <carried forward> |
    And it says of what is carried forward: "<why>"
    And its figures add up to its lines, adjustments, fees, recoupments and payments
    And its closing balance is opening + earned - fees - recouped - paid
    And its closing balance is what is payable now plus what is carried forward

    Examples:
      | party        | earned | fees   | recouped | closing | payable now | carried forward | why                                                |
      | rust         | 196.00 | 29.40  | 100.00   | 66.60   | 66.60       | 0.00            |                                                    |
      | hook-curator | 147.00 | 22.05  | 0.00     | 124.95  | 124.95      | 0.00            |                                                    |
      | lic-a        | 73.50  | 11.025 | 0.00     | 62.475  | 62.47       | 0.005           | the remainder under 0.01 USD stays in your balance |
      | lic-b        | 24.50  | 3.675  | 0.00     | 20.825  | 0.00        | 20.825          | below threshold of 25.00 USD                       |

  Scenario: A payout made after the close is on the next month's statement
    # October is closed before anyone is paid; the payout for October lands in November.
    Given the finance team has closed 2026-10
    And the finance team has paid 2026-10
    When the finance team writes the statements of 2026-10
    Then the statement of "rust" for 2026-10 has this summary:
      | figure          | amount |
      | closing         | 66.60  |
      | payable now     | 0.00   |
      | carried forward | 66.60  |
    When the finance team writes the statements of 2026-11
    Then the statement of "rust" for 2026-11 has this summary:
      | figure          | amount |
      | opening         | 66.60  |
      | earned          | 0.00   |
      | fees            | 0.00   |
      | recouped        | 0.00   |
      | paid            | 66.60  |
      | closing         | 0.00   |
      | payable now     | 0.00   |
      | carried forward | 0.00   |
    And its payment rows are:
      | kind    | amount | description                  |
      | payment | 66.60  | Payout to Rust for 2026-10   |
    And its figures add up to its lines, adjustments, fees, recoupments and payments
    And its closing balance is opening + earned - fees - recouped - paid
    And the statement of "lic-a" for 2026-11 has this summary:
      | figure          | amount |
      | opening         | 62.475 |
      | paid            | 62.47  |
      | closing         | 0.005  |
      | carried forward | 0.005  |
    And its closing balance is opening + earned - fees - recouped - paid
