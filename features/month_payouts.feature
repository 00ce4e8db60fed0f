Feature: Paying the holders
  At the month's end every holder is paid their balance rounded down to the cent.
  The part under a cent stays in their balance and counts next month; a balance
  below the holder's payout threshold is not paid, and is carried forward until it
  reaches the threshold. Paying twice pays nothing more.

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
    # Seven streams in France earn 0.07: after the 15% fee, 0.0595 is shared, so
    # everyone gets a part of a cent (rust 40% = 0.0238).
    And DistroKid sends "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 100000   | 400.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
      | 2026-10    | Deezer      | QZAAA2600001 | FR      | 7        | 0.07     |
    And the finance team has imported "DistroKid_2026-10.tsv" for 2026-10
    And the finance team has split 2026-10

  Scenario: Balances are paid rounded down to the cent; a balance below the threshold waits
    # rust: 40% of 425.0595 = 170.0238; lic-b: 5% = 21.252975, under its 25.00 threshold.
    When the finance team pays 2026-10
    Then the payouts are:
      | party        | balance   | paid   | carried forward | why                          |
      | hook-curator | 127.51785 | 127.51 | 0.00785         | paid                         |
      | lic-a        | 63.758925 | 63.75  | 0.008925        | paid                         |
      | lic-b        | 21.252975 | 0.00   | 21.252975       | below threshold of 25.00 USD |
      | rust         | 170.0238  | 170.02 | 0.0038          | paid                         |
    And 361.28 USD is paid in total
    And the bank has paid out 361.28 USD
    And the balances of 2026-10 are:
      | party        | earned   | fees      | paid   | closing   |
      | hook-curator | 150.021  | 22.50315  | 127.51 | 0.00785   |
      | lic-a        | 75.0105  | 11.251575 | 63.75  | 0.008925  |
      | lic-b        | 25.0035  | 3.750525  | 0.00   | 21.252975 |
      | rust         | 200.028  | 30.0042   | 170.02 | 0.0038    |

  Scenario: Paying twice pays nothing more
    Given the finance team has paid 2026-10
    When the finance team pays 2026-10 again
    Then the payouts are:
      | party        | balance   | paid | carried forward | why                          |
      | hook-curator | 0.00785   | 0.00 | 0.00785         | less than one minor unit     |
      | lic-a        | 0.008925  | 0.00 | 0.008925        | less than one minor unit     |
      | lic-b        | 21.252975 | 0.00 | 21.252975       | below threshold of 25.00 USD |
      | rust         | 0.0038    | 0.00 | 0.0038          | less than one minor unit     |
    And 0.00 USD is paid in total
    And the ledger is exactly as it was before

  Scenario: What was carried forward counts in the next month
    # November: 200.02, of which rust nets 40% of 170.017 = 68.0068. With October's
    # 0.0038 that is 68.0106: 68.01 is paid, where November alone would pay 68.00.
    # lic-b: 21.252975 + 8.50085 = 29.753825 now reaches the 25.00 threshold.
    Given the finance team has paid 2026-10
    And DistroKid sends "DistroKid_2026-11.tsv":
      | sale month | store   | isrc         | country | quantity | earnings |
      | 2026-11    | Spotify | QZAAA2600001 | US      | 50000    | 200.02   |
    And the finance team has imported "DistroKid_2026-11.tsv" for 2026-11
    And the finance team has split 2026-11
    When the finance team pays 2026-11
    Then the payouts are:
      | party        | balance   | paid  | carried forward | why  |
      | hook-curator | 51.01295  | 51.01 | 0.00295         | paid |
      | lic-a        | 25.511475 | 25.51 | 0.001475        | paid |
      | lic-b        | 29.753825 | 29.75 | 0.003825        | paid |
      | rust         | 68.0106   | 68.01 | 0.0006          | paid |
    And 174.28 USD is paid in total
    And the bank has paid out 535.56 USD
    And the balances of 2026-11 are:
      | party        | opening   | earned | fees    | paid  | closing  |
      | hook-curator | 0.00785   | 60.006 | 9.0009  | 51.01 | 0.00295  |
      | lic-a        | 0.008925  | 30.003 | 4.50045 | 25.51 | 0.001475 |
      | lic-b        | 21.252975 | 10.001 | 1.50015 | 29.75 | 0.003825 |
      | rust         | 0.0038    | 80.008 | 12.0012 | 68.01 | 0.0006   |
