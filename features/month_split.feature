Feature: Splitting the month, and running the split again
  The split gives every holder their share of the month's revenue once the fees
  that come off the top are taken. "Earned" is a holder's gross share, "fees" their
  part of the fees, in proportion to their share. Running the split again on the
  same inputs posts nothing; after a correction (a new version of the split sheet,
  a late file, a replaced file) it posts only the difference, as an adjustment of
  the earlier run.

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

  Scenario: The split posts every holder's share
    # 500.00 in all. The distribution fee, 15%, is 75.00; 425.00 is left to share.
    # The licensors' 20% pool is shared 3:1 by weight: 15% to lic-a, 5% to lic-b.
    # The label's "remaining" share is 10%. Each holder earns their share of 500.00,
    # carries the same share of the 75.00 fee, and nets their share of 425.00.
    When the finance team splits 2026-10
    Then run #1 posts 500.00 USD of revenue in 2026-10 with these changes:
      | party / account | earned | fees  | net    |
      | income:fees     | 75.00  | 0.00  | 75.00  |
      | income:share    | 50.00  | 7.50  | 42.50  |
      | hook-curator    | 150.00 | 22.50 | 127.50 |
      | lic-a           | 75.00  | 11.25 | 63.75  |
      | lic-b           | 25.00  | 3.75  | 21.25  |
      | rust            | 200.00 | 30.00 | 170.00 |
    And the net changes add up to 500.00 USD
    And nothing waits to be split
    And the balances of 2026-10 are:
      | party        | opening | earned | fees  | recouped | paid | closing |
      | hook-curator | 0.00    | 150.00 | 22.50 | 0.00     | 0.00 | 127.50  |
      | lic-a        | 0.00    | 75.00  | 11.25 | 0.00     | 0.00 | 63.75   |
      | lic-b        | 0.00    | 25.00  | 3.75  | 0.00     | 0.00 | 21.25   |
      | rust         | 0.00    | 200.00 | 30.00 | 0.00     | 0.00 | 170.00  |

  Scenario: A second run on the same inputs posts nothing
    Given the finance team has split 2026-10
    When the finance team splits 2026-10 again
    Then the split posts nothing, as the ledger already matches its inputs
    And the ledger is exactly as it was before

  Scenario: A new version of the split sheet posts only the difference
    # Version 2 moves 5% from the curator to the producer from October on:
    # 5% of 500.00 = 25.00 earned, 5% of the 75.00 fee = 3.75, 21.25 net.
    Given the finance team has split 2026-10
    And the split sheet "hook-line" version 2 for "QZAAA2600001" from 2026-10:
      | party | role                   | share     |
      | rust  | producer               | 45%       |
      |       | curator                | 25%       |
      |       | training_data_licensor | 20%       |
      | label | label                  | remaining |
    And a distribution fee of 15% to "label" comes off the top
    And the catalog and the split sheets are loaded
    When the finance team splits 2026-10 again
    Then run #2 adjusts run #1 in 2026-10 with these changes:
      | party / account | earned | fees  | net    |
      | hook-curator    | -25.00 | -3.75 | -21.25 |
      | rust            | 25.00  | 3.75  | 21.25  |
    And the net changes add up to 0.00 USD
    And the balances of 2026-10 are:
      | party        | earned | fees  | closing |
      | hook-curator | 125.00 | 18.75 | 106.25  |
      | lic-a        | 75.00  | 11.25 | 63.75   |
      | lic-b        | 25.00  | 3.75  | 21.25   |
      | rust         | 225.00 | 33.75 | 191.25  |

  Scenario: A late file posts only its own split
    # TuneCore pays 80.00 GBP at 1.25: 100.00 USD, split like the rest.
    Given the finance team has split 2026-10
    And TuneCore sends "TuneCore_2026-10.csv":
      | sales period | store  | country | isrc         | units | net sales | net sales currency | exchange rate | total earned |
      | 2026-10      | Deezer | GB      | QZAAA2600001 | 25000 | 80.00     | GBP                | 1.25          | 100.00       |
    And the finance team has imported "TuneCore_2026-10.csv" for 2026-10
    When the finance team splits 2026-10 again
    Then run #2 adjusts run #1 in 2026-10 with these changes:
      | party / account | earned | fees | net   |
      | income:fees     | 15.00  | 0.00 | 15.00 |
      | income:share    | 10.00  | 1.50 | 8.50  |
      | hook-curator    | 30.00  | 4.50 | 25.50 |
      | lic-a           | 15.00  | 2.25 | 12.75 |
      | lic-b           | 5.00   | 0.75 | 4.25  |
      | rust            | 40.00  | 6.00 | 34.00 |
    And the split covered 600.00 USD of revenue
    And the net changes add up to 100.00 USD
    And nothing waits to be split

  Scenario: A replaced file posts only the correction
    # DistroKid corrects Spotify from 400.00 to 420.00: 20.00 more to split.
    Given the finance team has split 2026-10
    And DistroKid sends a corrected "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 105000   | 420.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
    And the finance team has imported "DistroKid_2026-10.tsv" for 2026-10, replacing the earlier import
    When the finance team splits 2026-10 again
    Then run #2 adjusts run #1 in 2026-10 with these changes:
      | party / account | earned | fees | net  |
      | income:fees     | 3.00   | 0.00 | 3.00 |
      | income:share    | 2.00   | 0.30 | 1.70 |
      | hook-curator    | 6.00   | 0.90 | 5.10 |
      | lic-a           | 3.00   | 0.45 | 2.55 |
      | lic-b           | 1.00   | 0.15 | 0.85 |
      | rust            | 8.00   | 1.20 | 6.80 |
    And the split covered 520.00 USD of revenue
    And nothing waits to be split
    And the balances of 2026-10 are:
      | party | earned | fees  | closing |
      | rust  | 208.00 | 31.20 | 176.80  |
