Feature: Split sheets turn a revenue line into exact shares
  The finance team writes who gets what for a track as a split sheet. Every
  cent of a line is given to someone: the parts always add up to the line.

  Background:
    Given the label "rust-label" with these contributions to "USRW12600001":
      | party          | role                   | weight |
      | hook-curator   | curator                |        |
      | rust           | producer               |        |
      | musiclm-vendor | model_vendor           | 2      |
      | jukebox-vendor | model_vendor           | 1      |
      | northern-lights| training_data_licensor | 5      |
      | sunset-catalog | training_data_licensor | 3      |
      | blue-harbor    | training_data_licensor | 2      |

  Scenario: A split sheet by party and by role
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role                   | share     |
      | hook-curator | curator                | 20%       |
      | rust         | producer               | 30%       |
      |              | model_vendor           | 10%       |
      |              | training_data_licensor | 15%       |
      | rust-label   | label                  | 25%       |
    When a line of 1000.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party           | role                   | amount |
      | hook-curator    | curator                | 200.00 |
      | rust            | producer               | 300.00 |
      | jukebox-vendor  | model_vendor           | 33.3333333333 |
      | musiclm-vendor  | model_vendor           | 66.6666666667 |
      | blue-harbor     | training_data_licensor | 30.00  |
      | northern-lights | training_data_licensor | 75.00  |
      | sunset-catalog  | training_data_licensor | 45.00  |
      | rust-label      | label                  | 250.00 |
    And the parts add up to the line
    And every part names the rule "walk-my-walk@v1#standard"

  Scenario: "Remaining" takes what the others leave
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role     | share     |
      | hook-curator | curator  | 1/3       |
      | rust         | producer | 0.25      |
      | rust-label   | label    | remaining |
    When a line of 120.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party        | role     | amount |
      | hook-curator | curator  | 40.00  |
      | rust         | producer | 30.00  |
      | rust-label   | label    | 50.00  |

  Scenario: An amount that does not divide evenly gives the leftover unit to the smallest party id
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role     | share |
      | rust         | producer | 1/3   |
      | hook-curator | curator  | 1/3   |
      | rust-label   | label    | 1/3   |
    When a line of 100.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party        | role     | amount        |
      | rust         | producer | 33.3333333333 |
      | hook-curator | curator  | 33.3333333334 |
      | rust-label   | label    | 33.3333333333 |
    And the parts add up to the line

  Scenario: A refund reverses the original split exactly
    Given the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party        | role     | share |
      | rust         | producer | 1/3   |
      | hook-curator | curator  | 1/3   |
      | rust-label   | label    | 1/3   |
    When a line of -100.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party        | role     | amount         |
      | rust         | producer | -33.3333333333 |
      | hook-curator | curator  | -33.3333333334 |
      | rust-label   | label    | -33.3333333333 |
    And the parts add up to the line
