Feature: Importing the month's revenue files
  Every file a store or distributor sends is imported once and in full, and what it
  says the label is owed is on that source's receivable. A file imported twice is
  refused; a corrected file supersedes the first one by reversal, never by deletion;
  a line for a track the label does not know waits in suspense until the catalog
  knows it, and is then split like any other line.

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

  Scenario: A DistroKid export is imported and its total is on the receivable
    Given DistroKid sends "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 100000   | 400.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
    When the finance team imports "DistroKid_2026-10.tsv" for 2026-10
    Then import #1 holds 2 lines worth 500.00 USD from "DistroKid"
    And DistroKid owes the label 500.00 USD
    And 500.00 USD of revenue waits to be split
    And nothing is held in suspense

  Scenario: The same file imported twice is refused and changes nothing
    Given DistroKid sends "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 100000   | 400.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
    And the finance team has imported "DistroKid_2026-10.tsv" for 2026-10
    When the finance team imports "DistroKid_2026-10.tsv" for 2026-10 again
    Then it is refused because "this file was already imported as import #1 (DistroKid_2026-10.tsv, period 2026-10"
    And it is refused because "nothing was imported; use --replace to supersede that import"
    And the ledger is exactly as it was before
    And DistroKid owes the label 500.00 USD

  Scenario: A corrected file supersedes the first one by reversal
    Given DistroKid sends "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 100000   | 400.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
    And the finance team has imported "DistroKid_2026-10.tsv" for 2026-10
    And DistroKid sends a corrected "DistroKid_2026-10.tsv":
      | sale month | store       | isrc         | country | quantity | earnings |
      | 2026-10    | Spotify     | QZAAA2600001 | US      | 105000   | 420.00   |
      | 2026-10    | Apple Music | QZAAA2600001 | US      | 10000    | 100.00   |
    When the finance team imports "DistroKid_2026-10.tsv" for 2026-10
    Then it is refused because "this file was already imported as import #1"
    And the ledger is exactly as it was before
    When the finance team imports "DistroKid_2026-10.tsv" for 2026-10, replacing the earlier import
    Then import #2 holds 2 lines worth 520.00 USD from "DistroKid"
    And import #2 supersedes import #1
    And the ledger shows "Import #1 superseded by import #2", which reverses entry #1:
      | account               | amount  |
      | receivable:distrokid  | -500.00 |
      | revenue:undistributed | 500.00  |
    And DistroKid owes the label 520.00 USD
    And 520.00 USD of revenue waits to be split

  Scenario: A line for a track the label does not own waits in suspense until the catalog knows it
    # The DSR pays 530.00 USD for the month's streams, shared pro rata to streams:
    # Hook Line 530.00 x 100000 / 106000 = 500.00, Chaos Avenue 530.00 x 6000 / 106000 = 30.00.
    Given StreamCo sends the DSR "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_20261105T101500.tsv" for 2026-10 with 530.00 USD of subscription revenue in the US, over these streams:
      | isrc         | title        | streams |
      | QZAAA2600001 | Hook Line    | 100000  |
      | QZZZZ2699999 | Chaos Avenue | 6000    |
    When the finance team imports "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_20261105T101500.tsv" for 2026-10
    Then import #1 holds 2 lines worth 530.00 USD from "StreamCo"
    And 1 line worth 30.00 USD is held in suspense
    And StreamCo owes the label 530.00 USD
    And the suspense list shows:
      | import | isrc         | reason              | lines | amount | known to the catalog |
      | 1      | QZZZZ2699999 | ISRC not in catalog | 1     | 30.00  | no                   |
    When the finance team splits 2026-10
    Then run #1 posts 500.00 USD of revenue in 2026-10 with these changes:
      | party / account | earned | fees  | net    |
      | income:fees     | 75.00  | 0.00  | 75.00  |
      | income:share    | 50.00  | 7.50  | 42.50  |
      | hook-curator    | 150.00 | 22.50 | 127.50 |
      | lic-a           | 75.00  | 11.25 | 63.75  |
      | lic-b           | 25.00  | 3.75  | 21.25  |
      | rust            | 200.00 | 30.00 | 170.00 |
    When the finance team adds the track "QZZZZ2699999" "Chaos Avenue" by "Machine Choir" to the catalog, made by:
      | party | role     |
      | rust  | producer |
    And the split sheet "chaos-avenue" for "QZZZZ2699999" from 2026-01:
      | party | role     | share |
      | rust  | producer | 100%  |
    And the finance team loads the catalog and the split sheets
    And the finance team releases from suspense what the catalog now knows
    Then 1 line worth 30.00 USD is released into 2026-10
    And nothing is held in suspense
    When the finance team splits 2026-10 again
    Then run #2 adjusts run #1 in 2026-10 with these changes:
      | party / account | earned | fees | net   |
      | rust            | 30.00  | 0.00 | 30.00 |
    And rust's 30.00 USD for "QZZZZ2699999" was posted by "Adjustment of the split of 2026-10 (run #2)"
    And rust's 30.00 USD for "QZZZZ2699999" traces back to line 13 of "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_20261105T101500.tsv"
    And nothing waits to be split
